"""Where clients reach the gateway: the ``host``, ``basePath`` and ``schemes`` of the document.

In order: the ``[gateway] PublicURL`` setting (behind a reverse proxy that rewrites paths); else
the request's own URL, with ``X-Forwarded-Proto``/``X-Forwarded-Host`` believed only when the
request comes straight from an address in ``[Security] TrustedProxies`` (none by default; the
same rules as the security layer's, which parses them), since anyone else could make the
document point elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ..security.ipallow import AddressList, IpPolicy, parse_address
from ..settings import Settings

SERVICE_PATH = "/api.rsc"

# Microsoft's connector schema: a bare host with an optional port. Anything else (an IPv6
# literal, say) is left out, which tells clients to use the host the document came from.
_HOST = re.compile(r"[^{}/ :\\]+(?::\d+)?")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str | None
    base_path: str  # e.g. "/api.rsc" or "/kintone/api.rsc/@token"

    @property
    def url(self) -> str:
        """The service root as an absolute URL (relative when the host is unknown)."""
        return f"{self.scheme}://{self.host}{self.base_path}" if self.host else self.base_path

    @property
    def docs_url(self) -> str | None:
        """The Swagger UI page, never with a token in it; ``None`` when the host is unknown."""
        service = self.base_path[:self.base_path.rindex(SERVICE_PATH) + len(SERVICE_PATH)]
        return f"{self.scheme}://{self.host}{service}/$docs/" if self.host else None


def trusted_proxies(settings: Settings) -> AddressList:
    """``[Security] TrustedProxies``, parsed once at start-up so a typo fails early."""
    return IpPolicy.from_settings(settings.section("Security")).proxies


@dataclass(frozen=True)
class RequestView:
    """The parts of a request the origin depends on (kept apart from Flask for testing)."""

    scheme: str
    host: str
    remote_addr: str | None
    forwarded_proto: str | None = None
    forwarded_host: str | None = None


def origin(public_url: str | None, proxies: AddressList, request: RequestView,
           token: str | None = None) -> Origin:
    suffix = SERVICE_PATH + (f"/@{quote(token, safe='')}" if token is not None else "")
    if public_url:
        return public_origin(public_url, suffix)
    scheme, host = request.scheme, request.host
    if parse_address(request.remote_addr or "") in proxies:
        scheme = _first(request.forwarded_proto) or scheme
        host = _first(request.forwarded_host) or host
    if scheme not in ("http", "https"):
        scheme = request.scheme
    return Origin(scheme, _valid_host(host), suffix)


def public_origin(public_url: str, suffix: str = SERVICE_PATH) -> Origin:
    """Where ``[gateway] PublicURL`` (e.g. ``https://gw.example.com/kintone``) puts the
    service: for documents made outside a request too."""
    parts = urlsplit(public_url)
    return Origin(parts.scheme, _valid_host(parts.netloc), parts.path.rstrip("/") + suffix)


def _first(header: str | None) -> str | None:
    """The first value of a header that proxies chain append to (``https, http``)."""
    value = (header or "").split(",")[0].strip().lower()
    return value or None


def _valid_host(host: str) -> str | None:
    return host if _HOST.fullmatch(host) else None
