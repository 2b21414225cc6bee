"""HTTP/1.1 keep-alive for the sandbox's werkzeug server, as Kintone keeps connections open.

werkzeug's development server closes every connection: it answers with ``Connection: close``,
then reads whatever the client sends next (to discard an unread body), which on a kept
connection would swallow the client's next request. This handler keeps the connection unless
the client asked to close it: werkzeug's discarding looks at a socket at its end and reads an
empty stream, and the handler reads exactly what is left of each request's body (its
``Content-Length``, or up to its last chunk) after the answer instead. A connection idle for
``timeout`` seconds is closed.
"""

from __future__ import annotations

import io
import socket
from typing import IO

from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

IDLE_SECONDS = 30
DISCARD_CHUNK = 1 << 16
# werkzeug's post-answer discarding waits up to 10 ms for the socket to have data, then reads
# ``rfile``: a socket whose peer is closed is at once readable (its end), and the handler's
# ``rfile`` is then an empty stream. A socket that never had data cost every call 10 ms.
_AT_END, _CLOSED = socket.socketpair()
_CLOSED.close()


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    # werkzeug writes the head and the body apart: on a kept connection Nagle's algorithm holds
    # the body until the client's delayed ACK, 40 ms a call.
    disable_nagle_algorithm = True

    def run_wsgi(self) -> None:
        client, reader = self.connection, self.rfile
        self.connection = _AT_END
        try:
            super().run_wsgi()
        finally:
            self.connection, self.rfile = client, reader
        if not self.close_connection:
            try:
                _discard(self._body)
            except ClientDisconnected:  # it left before sending the whole body
                self.close_connection = True

    def make_environ(self) -> dict:
        environ = super().make_environ()
        environ["werkzeug.socket"] = self.request  # the client's socket, as werkzeug gives it
        if not environ.get("wsgi.input_terminated"):  # chunked input ends with its last chunk
            length = environ.get("CONTENT_LENGTH", "")
            environ["wsgi.input"] = LimitedStream(self.rfile, int(length)
                                                  if length.isdigit() else 0)
        self._body: IO[bytes] = environ["wsgi.input"]
        self.rfile = io.BytesIO()  # what werkzeug's discarding reads; run_wsgi puts it back
        return environ

    def log_error(self, format: str, *args: object) -> None:
        if not format.startswith("Request timed out"):  # a kept connection left idle: normal
            super().log_error(format, *args)

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and not self.close_connection:
            return  # werkzeug's "close": the connection stays open
        super().send_header(keyword, value)


def _discard(body: IO[bytes]) -> None:
    """Read what the application left of the request's body, so that the next request starts
    where it should."""
    while body.read(DISCARD_CHUNK):
        pass
