"""Serving the gateway on a socket in a background thread (the demo, tests, small setups).

Production deployments run the WSGI app under gunicorn instead.
"""

from __future__ import annotations

import re
import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from ..security.hardening import BannerlessHandler

_NON_ASCII = re.compile(rb"[\x80-\xff]")


class _Handler(BannerlessHandler):
    """Reads raw UTF-8 in a request line as if percent-encoded, as browsers send it.

    Python's ``http.server`` splits the request line on every Unicode space, which its
    Latin-1 reading of UTF-8 bytes contains (``\x85`` in ``優``): it would answer an HTML "Bad
    request syntax" page. Percent-encoded, a byte sequence that is not UTF-8 still gets the
    gateway's OData error."""

    raw_requestline: bytes  # set by BaseHTTPRequestHandler.handle_one_request

    def parse_request(self) -> bool:
        self.raw_requestline = _NON_ASCII.sub(lambda m: b"%%%02X" % m[0][0],
                                              self.raw_requestline)
        return super().parse_request()


class _QuietHandler(_Handler):
    def log_request(self, *args, **kwargs) -> None:  # the audit log has every request
        pass


class WebServer:
    """A threaded HTTP server for one Flask app; ``port=0`` picks a free port."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0,
                 *, quiet: bool = True) -> None:
        handler = _QuietHandler if quiet else _Handler
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=handler
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else str(host)
        return f"http://{host}:{port}"

    def start(self) -> WebServer:
        # A short poll keeps stop() quick (tests start and stop many servers).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
