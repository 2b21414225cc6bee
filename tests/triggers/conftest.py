"""Gateways with the triggers registered, in front of the session's sandbox (whose webhooks
really POST to them), and subscribers: tiny HTTP receivers on free localhost ports."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from gateway.sandbox import Sandbox, SandboxServer
from gateway.settings import Section
from gateway.triggers.context import EXTENSION as TRIGGERS
from tests.gateway.conftest import (  # noqa: F401  (fixtures used by this folder's tests)
    Gateway,
    extension,
    make_app,
    start_gateway,
)

SECRET = "test-webhook-secret-0123456789"
INBOUND = "triggers.receive"
FAST = {"webhooksecret": SECRET, "retryseconds": "0.05", "maxretryseconds": "0.2",
        "deliverytimeout": "2", "workers": "2", "callbackallowedips": "127.0.0.1"}


@pytest.fixture(scope="session")
def start_triggers(start_gateway: Callable[..., Gateway],  # noqa: F811
                   sandbox: Sandbox) -> Callable[..., Gateway]:
    """``start_triggers([apps], database=..., sections=..., **[Triggers] settings)``; its
    polling triggers read the sandbox's clock."""

    def start(apps: list[int], *, database: str = ":memory:",
              sections: dict[str, Section] | None = None, **config: str) -> Gateway:
        section = Section("triggers", {**FAST, "database": database, **config})
        gw = start_gateway(apps, sections={**(sections or {}), "triggers": section})
        # Polling reads Kintone's clock: the sandbox's, which tests move.
        gw.app.extensions[TRIGGERS] = replace(gw.app.extensions[TRIGGERS],
                                              kintone_clock=sandbox.clock.now)
        return gw

    return start


def inbound_url(gw: Gateway) -> str:
    return f"{gw.root}/$triggers/kintone/@{SECRET}"


@pytest.fixture(scope="module")
def clock(server: SandboxServer) -> Iterator[Callable[..., dict]]:
    """``clock(now=..., offset_seconds=...)`` sets the sandbox's clock; back to real time after
    the module, for the other suites sharing the sandbox."""

    def put(**body: Any) -> dict:
        response = requests.put(f"{server.url}/__sandbox/clock", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    yield put
    put(now=None, offset_seconds=0)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append(json.loads(self.rfile.read(length)))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class Receiver:
    """A subscriber's callback: records every JSON body POSTed to it; ``down()`` closes the
    port (connections are refused) until ``up()`` opens it again."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback?sig=secret-signature"

    def up(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._server.received = self.received  # type: ignore[attr-defined]
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float = 20) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, self.received
        return self.received


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    subscriber = Receiver()
    yield subscriber
    subscriber.down()
