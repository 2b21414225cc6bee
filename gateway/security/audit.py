"""The audit log: one JSON line per request on the ``gateway.audit`` logger (level INFO).

Fields: time (UTC, when the request arrived), user, client_ip, method, path (with its query,
any URL authtoken masked), status, bytes (of the body sent), duration_ms, kintone_calls. It is
written by a WSGI middleware, so it covers every response - refusals, errors, and streamed
bodies, whose size and duration are known only once the last byte has gone.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import has_request_context, request

from ..events import KintoneCallMade, RequestServed, Stream
from .redaction import redact

log = logging.getLogger("gateway.audit")
ENVIRON_KEY = "kintone_gateway.audit"
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


@dataclass
class Entry:
    """Not frozen: the layers a request passes fill it in (user, status, Kintone calls)."""

    time: str
    method: str
    path: str
    client_ip: str | None
    user: str | None = None
    status: int | None = None
    bytes: int = 0
    duration_ms: float = 0.0
    kintone_calls: int = 0

    def add_bytes(self, chunk: builtins.bytes) -> None:  # ``bytes`` is the field here
        self.bytes += len(chunk)


def current_entry() -> Entry | None:
    return request.environ.get(ENVIRON_KEY) if has_request_context() else None


def subscribe(events: Stream) -> None:
    """Count every Kintone call in the audit line of the request it was made for."""
    events.subscribe(KintoneCallMade, count_kintone_call)


def count_kintone_call(_call: KintoneCallMade) -> None:
    """Count one Kintone API call for the request being served: the call is published in that
    request's thread, or in a copy of its context (no request: e.g. trigger polling)."""
    entry = current_entry()
    if entry is not None:
        entry.kintone_calls += 1


class AuditMiddleware:
    """Writes each request's audit line, and publishes it on ``events`` (the console's
    activity reads it there: the logger is the process's, the stream the app's)."""

    def __init__(self, app: WSGIApp, events: Stream) -> None:
        self._app = app
        self._events = events

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        entry = Entry(time=datetime.now(UTC).isoformat(timespec="milliseconds"),
                      method=environ.get("REQUEST_METHOD", ""), path=_path(environ),
                      client_ip=environ.get("REMOTE_ADDR"))
        environ[ENVIRON_KEY] = entry
        started = time.perf_counter()

        def start(status: str, headers: list, exc_info: Any = None) -> Callable:
            entry.status = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            body = self._app(environ, start)
        except BaseException:
            self._emit(entry, started)
            raise
        return ClosingBody(body, lambda: self._emit(entry, started), entry.add_bytes)

    def _emit(self, entry: Entry, started: float) -> None:
        entry.duration_ms = round((time.perf_counter() - started) * 1000, 1)
        fields = dict(vars(entry))  # flat: no deep copy (asdict) needed
        if log.isEnabledFor(logging.INFO):
            log.info("%s", orjson.dumps(fields).decode())
        self._events.publish(RequestServed(**fields))


class ClosingBody:
    """A WSGI response body that calls ``finish`` once the server has closed it (sent, or
    abandoned by the client), and ``on_chunk`` for every chunk sent."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[], None],
                 on_chunk: Callable[[bytes], None] | None = None) -> None:
        self._body = body
        self._finish = finish
        self._on_chunk = on_chunk

    def __iter__(self) -> Iterator[bytes]:
        if self._on_chunk is None:
            yield from self._body
            return
        for chunk in self._body:
            self._on_chunk(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()


def _path(environ: dict) -> str:
    # WSGI hands the path over as latin-1 text of the raw bytes.
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    path = raw.encode("latin-1").decode("utf-8", "replace")
    query = environ.get("QUERY_STRING")
    return redact(f"{path}?{query}" if query else path)
