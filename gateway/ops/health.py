"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: settings loaded, Kintone
reachable with the configured credentials, Redis reachable when clustered).

Both answer without an authtoken, since orchestrators have none, but only to the addresses of
``[Security] AllowedIPs``. Readiness costs a Kintone call (the exposed apps are listed), so a
success is trusted for ``READY_FOR`` seconds; a failure is not, so an instance comes back as soon
as Kintone does. The check neither retries nor waits long: a probe has its own timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from flask import Blueprint, Response, current_app, jsonify, request
from redis import RedisError

from ..http.errors import respond
from ..kintone import KintoneClient, KintoneError, RetryPolicy
from ..odata.errors import ODataError
from ..security import EXTENSION as SECURITY_EXTENSION
from ..security.errors import forbidden
from ..security.guard import Guard
from ..service import list_apps
from ..settings import KintoneSettings, SettingsError

EXTENSION = "kintone_gateway.health"
PROBE_ENDPOINTS = frozenset({"ops_health.healthz", "ops_health.readyz"})
READY_FOR = 30.0  # seconds a successful readiness check is trusted
CHECK_TIMEOUT = 3.0  # seconds for each Kintone call of the check

blueprint = Blueprint("ops_health", __name__)


class Readiness:
    def __init__(self, kintone: KintoneSettings, cluster_ping: Callable[[], None] | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = replace(kintone, timeout=CHECK_TIMEOUT, connect_timeout=CHECK_TIMEOUT)
        self._client = KintoneClient(self._settings, retry=RetryPolicy(retries=0))
        self._cluster_ping = cluster_ping
        self._clock = clock
        self._lock = threading.Lock()
        self._ready_until = float("-inf")

    def problems(self) -> list[dict[str, str]]:
        """What keeps the gateway from serving (empty: ready)."""
        if self._clock() < self._ready_until:
            return []
        found = [problem for problem in (self._kintone(), self._cluster()) if problem]
        if not found:
            with self._lock:
                self._ready_until = self._clock() + READY_FOR
        return found

    def close(self) -> None:
        self._client.close()

    def _kintone(self) -> dict[str, str] | None:
        try:
            list_apps(self._client, self._settings)
        except (KintoneError, SettingsError) as error:
            return {"code": "KintoneUnreachable", "target": "kintone", "message": str(error)}
        return None

    def _cluster(self) -> dict[str, str] | None:
        if self._cluster_ping is None:
            return None
        try:
            self._cluster_ping()
        except RedisError as error:
            return {"code": "RedisUnreachable", "target": "cluster",
                    "message": type(error).__name__}  # its text may name the host and user
        return None


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify(status="alive")


@blueprint.get("/readyz")
def readyz() -> Response:
    problems = current_app.extensions[EXTENSION].problems()
    if problems:
        return respond(ODataError(503, "NotReady", "The gateway cannot serve yet.", None,
                                  problems))
    return jsonify(status="ready")


def serve_probe() -> Response | None:
    """A request hook ahead of the security layer's: a probe is answered here, to an allowed
    address, without the authtoken (and rate limits) every other request needs."""
    if request.endpoint not in PROBE_ENDPOINTS:
        return None
    guard: Guard = current_app.extensions[SECURITY_EXTENSION]
    client = guard.ip.client(request.remote_addr or "", request.headers.get("X-Forwarded-For"))
    if not guard.ip.allows(client):
        raise forbidden("AddressNotAllowed", f"Calls from {client or 'this address'} are not "
                        "allowed ([Security] AllowedIPs).")
    return current_app.view_functions[request.endpoint]()
