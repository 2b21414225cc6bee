"""gunicorn's threaded worker with read deadlines, so that slow clients cannot hold its threads.

gunicorn's ``gthread`` worker hands a connection to a thread as soon as its first bytes arrive,
and the thread then blocks until the request line and headers are complete: a handful of
clients sending one header line every few seconds (slowloris) held every thread, and every
other client - the ones the address allowlist would refuse included, since it runs once the
request is read - waited.

Here a thread only reads what has arrived, without waiting: until the head (request line and
headers) is complete, the connection goes back to the worker's poller, which holds any number
of them without a thread; the thread that serves the request gets it whole. A head not complete
``header_timeout`` seconds after its first byte closes the connection (no longer than
``KeepAlive`` seconds between bytes, gunicorn's own limit for a waiting connection). The body
must then arrive within ``body_timeout`` seconds; past it, reading it fails (400).

A request line or header gunicorn cannot read (raw UTF-8 in the URL, as ``curl`` sends ``優先度``;
a broken header) is refused before the app sees it: here with an OData JSON error and
``OData-Version``, not gunicorn's HTML page (limits keep their statuses, 414 and 431).

Under TLS the handshake reads the socket itself: a TLS connection is served as by ``gthread``,
one thread from its first bytes, which is why TLS belongs on the reverse proxy in front
(docs/security.md).
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.workers import gthread
from werkzeug.exceptions import ClientDisconnected

from ..odata.errors import ODataError

HEAD_END = b"\r\n\r\n"
_CLIENT_ERRORS: tuple[type[Exception], ...] = (
    http_errors.InvalidRequestLine, http_errors.InvalidRequestMethod,
    http_errors.InvalidHTTPVersion, http_errors.InvalidHeader, http_errors.InvalidHeaderName,
    http_errors.LimitRequestLine, http_errors.LimitRequestHeaders,
)
_UNREADABLE = ("The request line or a header could not be read: percent-encode every byte "
               "outside ASCII in the URL (UTF-8), and send well-formed headers.")
_UNREAD = ODataError.of("BadRequest", message=_UNREADABLE)
_LIMITS: dict[type[Exception], ODataError] = {
    http_errors.LimitRequestLine: ODataError.of("URITooLong", message=_UNREADABLE),
    http_errors.LimitRequestHeaders: ODataError.of("RequestHeaderFieldsTooLarge",
                                                   message=_UNREADABLE),
}
_REASONS = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large"}
_READ = 65536


@dataclass
class _Head:
    """What arrived of a request's head, and until when the rest may come."""

    deadline: float
    data: bytearray = field(default_factory=bytearray)


class DeadlineWorker(gthread.ThreadWorker):
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    # A head this long is handed to the parser, whose limits refuse it with a clear error.
    longest_head: int = 64 * 1024

    def handle(self, conn: Any) -> Any:
        if self.cfg.is_ssl:
            return super().handle(conn)
        head: _Head | None = getattr(conn, "kintone_gateway_head", None)
        if head is None:
            head = conn.kintone_gateway_head = _Head(time.monotonic() + self.header_timeout)
            if conn.parser is not None:  # a kept-alive connection: what its last read left
                head.data += conn.parser.unreader.take_buffered()
        if not _gather(conn.sock, head.data):
            return False  # the client closed
        if HEAD_END not in head.data and len(head.data) < self.longest_head:
            if time.monotonic() > head.deadline:
                self.log.info("Closed a connection whose request head took more than %ss",
                              self.header_timeout)
                return False
            # Back to the poller, no thread held; a private name the stubs leave out.
            return gthread._DEFER  # type: ignore[attr-defined]
        conn.kintone_gateway_head = None
        conn.sock.setblocking(True)
        conn.init()
        conn.data_ready = True
        conn.parser.unreader.unread(bytes(head.data))
        _limit_body(conn.parser.unreader, conn.sock, time.monotonic() + self.body_timeout)
        return super().handle(conn)


    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if not isinstance(exc, _CLIENT_ERRORS):
            super().handle_error(req, client, addr, exc)
            return
        error = _LIMITS.get(type(exc), _UNREAD)
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, error_response(error))
        except Exception:  # the client went away: nothing to answer
            self.log.debug("Failed to send error message.")


def error_response(error: ODataError) -> bytes:
    """An OData JSON error as raw HTTP, for a request the app never saw."""
    body = json.dumps(error.body()).encode()
    head = (f"HTTP/1.1 {error.status} {_REASONS[error.status]}\r\nConnection: close\r\n"
            f"Content-Type: application/json;charset=utf-8\r\nOData-Version: 4.0\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def with_deadlines(header_timeout: float, body_timeout: float) -> type[DeadlineWorker]:
    """The worker class for gunicorn's ``worker_class``, with these deadlines."""
    return type("DeadlineWorker", (DeadlineWorker,), {"header_timeout": header_timeout,
                                                      "body_timeout": body_timeout,
                                                      "__module__": __name__})


def _gather(sock: socket.socket, data: bytearray) -> bool:
    """Append what arrived, without waiting; False when the client closed."""
    sock.setblocking(False)
    try:
        while True:
            chunk = sock.recv(_READ)
            if not chunk:
                return False
            data += chunk
    except BlockingIOError:
        return True
    except OSError:
        return False


def _limit_body(unreader: Any, sock: socket.socket, deadline: float) -> None:
    """Reads of the rest of the request (its body) fail once ``deadline`` passed; writes of the
    response are not limited (a long export to a slow client is fine)."""
    read = type(unreader).chunk

    def chunk(size_hint: int | None = None) -> bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ClientDisconnected("The request body took too long to arrive.")
        sock.settimeout(left)
        try:
            return read(unreader, size_hint)
        except TimeoutError:
            raise ClientDisconnected("The request body took too long to arrive.") from None
        finally:
            sock.settimeout(None)

    unreader.chunk = chunk
