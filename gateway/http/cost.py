"""What one request may cost Kintone, and only while its client is there to read the answer.

Every Kintone call made for a request (its view, its streamed body, the read-ahead of its pages
and, for ``$batch``, its sub-requests) is charged to the request's ``Meter`` before it is sent:

* past ``[gateway] MaxCallsPerRequest`` calls, the call is refused with 400 RequestTooCostly
  (an error status before the response starts; a stream cut short after);
* when the client has closed its connection, the call is not sent (``ClientGone``): a streamed
  response stops within one call of the client leaving, and closing its body releases its
  Kintone cursor.

Deleting a cursor is never refused: it gives back one of the domain's ten.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import has_request_context, request

from ..service.pages import too_costly

ENVIRON_KEY = "kintone_gateway.meter"
# Where the WSGI servers the gateway runs under put the client's socket.
_SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")
_FREE = frozenset({("DELETE", "records/cursor")})


class ClientGone(Exception):
    """The client closed its connection: nothing more is done for it."""


@dataclass
class Meter:
    limit: int
    connection: socket.socket | None
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def charge(self, method: str, api: str) -> None:
        if (method, api) in _FREE:
            return
        if self.connection is not None and _closed(self.connection):
            raise ClientGone()
        with self._lock:  # the read-ahead charges from its own thread
            if self.calls >= self.limit:
                raise too_costly(self.limit)
            self.calls += 1


def _closed(connection: socket.socket) -> bool:
    """Whether the peer closed the connection: readable, with nothing to read. (A pipelined
    next request is data, not a close. Under TLS, a close cannot be told from data without
    reading it: those connections are taken as open.)"""
    if isinstance(connection, ssl.SSLSocket):
        return False
    try:
        if connection.fileno() < 0:
            return True
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionError, ValueError):
        return True
    except OSError:
        return False


def meter(limit: int) -> Meter:
    """The current request's meter, made on its first call; ``$batch`` passes its own to its
    sub-requests (in their WSGI environ), so that they share it."""
    environ = request.environ
    found = environ.get(ENVIRON_KEY)
    if found is None:
        connection = next((environ[key] for key in _SOCKET_KEYS if key in environ), None)
        found = environ[ENVIRON_KEY] = Meter(limit, connection)
    return found


def guard(limit: int) -> Callable[[str, str], None]:
    """The Kintone client's guard: charges calls made for a request (background work, such
    as trigger polling, has none and is not charged here)."""
    def charge(method: str, api: str) -> None:
        if has_request_context():
            meter(limit).charge(method, api)

    return charge


def counter(limit: int) -> Callable[[], Callable[[], int]]:
    """The current request's count of calls: a reader of it (``CallBudget.counter``)."""
    def current() -> Callable[[], int]:
        if not has_request_context():
            return lambda: 0
        found = meter(limit)
        return lambda: found.calls

    return current
