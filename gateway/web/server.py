"""Serving the gateway on a socket in a background thread (the demo, tests, small setups).

Production deployments run the WSGI app under gunicorn instead.
"""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from ..security.hardening import BannerlessHandler


class _QuietHandler(BannerlessHandler):
    def log_request(self, *args, **kwargs) -> None:  # the audit log has every request
        pass


class WebServer:
    """A threaded HTTP server for one Flask app; ``port=0`` picks a free port."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0,
                 *, quiet: bool = True) -> None:
        handler = _QuietHandler if quiet else BannerlessHandler
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
        host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
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
