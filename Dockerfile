# kintone-gateway: the OData gateway under gunicorn.
#
#   docker build -t kintone-gateway .
#   docker run -p 8080:8080 -v "$PWD/settings.cfg:/etc/kintone-gateway/settings.cfg:ro" \
#       -e KINTONE_PASSWORD=... kintone-gateway
#
# Settings come from the mounted file ($GATEWAY_SETTINGS) and/or the environment
# (<SECTION>_<KEY>, e.g. KINTONE_URL, KINTONE_PASSWORD, SECURITY_ALLOWEDIPS, CLUSTER_REDIS).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GATEWAY_SETTINGS=/etc/kintone-gateway/settings.cfg \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8080

WORKDIR /srv/kintone-gateway
COPY pyproject.toml README.md ./
COPY gateway ./gateway
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin gateway \
    && mkdir -p /etc/kintone-gateway /var/lib/kintone-gateway \
    && chown gateway /var/lib/kintone-gateway

# The users file and token key ([Security] UsersFile, TokenKeyFile) are relative to here.
WORKDIR /var/lib/kintone-gateway
USER 10001
EXPOSE 8080

# The same commands the tests run: kintone-gateway serve (gunicorn), and the liveness probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "gateway.ops.probe"]
ENTRYPOINT ["kintone-gateway"]
CMD ["serve"]
