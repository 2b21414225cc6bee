"""The Kintone sandbox for the gateway benchmarks, run as a child process by ``common.py``.

Like ``kintone-gateway sandbox``, plus a counter of concurrent Kintone API calls (``/k/...``)
read at ``GET /__bench/peak`` (``?reset=1`` starts a new window): benchmark 4 compares its peak
with the gateway's ``MaxConcurrentRequests``. Counting in a WSGI wrapper, outside the sandbox,
sees every call whichever gateway worker sent it.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from gateway.sandbox import Sandbox, SandboxServer

PEAK_PATH = "/__bench/peak"
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Wsgi = Callable[[Environ, StartResponse], Iterable[bytes]]


class PeakCounter:
    """WSGI middleware: how many Kintone API calls run at once, at most."""

    def __init__(self, app: Wsgi) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._running = 0
        self._peak = 0

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == PEAK_PATH:
            return self._report(environ, start_response)
        if not path.startswith("/k/"):
            return self._app(environ, start_response)
        with self._lock:
            self._running += 1
            self._peak = max(self._peak, self._running)
        try:
            # The sandbox answers with whole bodies: the call is over once this returns.
            return list(self._app(environ, start_response))
        finally:
            with self._lock:
                self._running -= 1

    def _report(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            body = json.dumps({"peak": self._peak, "running": self._running}).encode()
            if "reset=1" in environ.get("QUERY_STRING", ""):
                self._peak = self._running
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=":memory:", help="SQLite file (default: memory)")
    parser.add_argument("--login", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    sandbox = Sandbox(db_path=args.data)
    sandbox.directory.add_user(args.login, args.password, "Benchmark")
    server = SandboxServer(sandbox)
    server.app.wsgi_app = PeakCounter(server.app.wsgi_app)  # type: ignore[method-assign]
    print(f"sandbox: {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
