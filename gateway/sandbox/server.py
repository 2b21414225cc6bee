"""Running the sandbox on a real socket: in a background thread (tests) or in the foreground."""

from __future__ import annotations

import ssl
import threading

from werkzeug.serving import BaseWSGIServer, make_server

from .keepalive import KeepAliveHandler
from .state import Sandbox
from .web import create_app


class _QuietHandler(KeepAliveHandler):
    def log_request(self, *args, **kwargs) -> None:  # the test output stays readable
        pass


class SandboxServer:
    """A threaded HTTP server for one Sandbox; ``port=0`` picks a free port. It keeps HTTP/1.1
    connections open, as Kintone does (see ``keepalive``); with ``tls``, over HTTPS as Kintone
    is."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0,
                 *, quiet: bool = True, tls: ssl.SSLContext | None = None) -> None:
        self.sandbox = sandbox
        self.app = create_app(sandbox)
        handler = _QuietHandler if quiet else KeepAliveHandler
        self._server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=handler, ssl_context=tls
        )
        self._scheme = "http" if tls is None else "https"
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        return f"{self._scheme}://{host}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
