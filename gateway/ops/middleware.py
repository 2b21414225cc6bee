"""The WSGI layer around the whole app: each request's id and its metrics, from its arrival to
its last byte.

It wraps every other layer (the audit log included), so that their log lines carry the request
id; it measures streamed responses to their end, which only the WSGI body's ``close`` knows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from ..security.audit import ClosingBody
from . import logs
from .metrics import UNMATCHED, Metrics

ROUTE_KEY = "kintone_gateway.route"  # set by ``note_route`` once Flask has matched the URL
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class OpsMiddleware:
    def __init__(self, app: WSGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = logs.request_id_for(environ)
        token = logs.bind(request_id)
        started = time.perf_counter()
        statuses: list[int] = []
        self._metrics.in_progress.inc()

        def start(status: str, headers: list, exc_info: Any = None) -> Callable:
            statuses.append(int(status.split(" ", 1)[0]))
            headers.append((logs.HEADER, request_id))
            return start_response(status, headers, exc_info)

        def finish() -> None:
            self._metrics.in_progress.dec()
            self._metrics.observe_request(environ.get(ROUTE_KEY, UNMATCHED),
                                          environ.get("REQUEST_METHOD", ""),
                                          statuses[-1] if statuses else 500,
                                          time.perf_counter() - started)
            logs.unbind(token)

        try:
            body = self._app(environ, start)
        except BaseException:
            finish()
            raise
        return ClosingBody(body, finish)
