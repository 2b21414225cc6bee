"""A small Flask app with the security layer registered, served on real sockets.

Its one view answers ``/api.rsc/[@token/]<Set>[...]`` after ``require(method, Set)``, the way the
resource layer asks for rights; ``?calls=N`` publishes N Kintone calls (counted in the audit
line), and the set ``Slow`` waits for ``gate.release`` so that requests can be held open.
"""

from __future__ import annotations

import base64
import configparser
import http.client
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, current_app, jsonify, request

from gateway.events import KintoneCallMade, Stream
from gateway.security import EXTENSION, current_user, register, require
from gateway.security.guard import Guard
from gateway.settings import Settings, parse_settings
from gateway.web.server import WebServer

METHODS = ["GET", "POST", "PUT", "PATCH", "MERGE", "DELETE", "OPTIONS", "HEAD"]
START = 1_900_000_000.0  # a fixed "now" (2030-03-17), moved by the tests that need time to pass


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Gate:
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class Server:
    host: str
    port: int
    app: Flask
    guard: Guard
    web: WebServer = field(repr=False)

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, *,
             body: bytes | None = None, source: str | None = None) -> Reply:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=30, source_address=(source, 0) if source else None)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Reply:
        return self.call("GET", path, headers, **kw)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def token_header(token: str) -> dict[str, str]:
    return {"X-Authtoken": token}


def settings_of(sections: dict[str, dict[str, str]] | None = None,
                env: dict[str, str] | None = None) -> Settings:
    """Settings with the given sections (``{"Security": {"AllowedIPs": "::1"}}``)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict({"kintone": {"Url": "http://127.0.0.1:9", "User": "u", "Password": "p"},
                      **(sections or {})})
    return parse_settings(parser, env or {})


def guarded_app(gate: Gate) -> Flask:
    app = Flask("security-test")

    @app.route("/api.rsc/", defaults={"path": ""}, methods=METHODS)
    @app.route("/api.rsc/<path:path>", methods=METHODS)
    def resource(path: str):
        segments = [s for s in path.split("/") if s and not s.startswith("@")]
        entity_set = segments[0].split("(")[0] if segments else None
        if entity_set:
            require(request.method, entity_set)
        events = current_app.extensions[EXTENSION].events
        for _ in range(int(request.args.get("calls", 0))):
            events.publish(KintoneCallMade("GET", "records"))
        if entity_set == "Slow":
            gate.entered.set()
            gate.release.wait(20)
        return jsonify(user=current_user().name, entity_set=entity_set)

    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gate() -> Iterator[Gate]:
    gate = Gate()
    yield gate
    gate.release.set()


@pytest.fixture
def serve(clock: Clock, gate: Gate, monkeypatch, tmp_path
          ) -> Iterator[Callable[..., Server]]:
    """``serve(settings, host="127.0.0.1", app=None)``: the app with ``register`` applied.

    Runs in a temporary directory, so that default files (users.cfg, token.key) are the
    test's own."""
    monkeypatch.chdir(tmp_path)
    running: list[WebServer] = []

    def start(settings: Settings, host: str = "127.0.0.1", app: Flask | None = None) -> Server:
        app = app or guarded_app(gate)
        guard = register(app, settings, Stream(), clock=clock)
        # Not quiet: the tests read Werkzeug's request log for leaked tokens.
        web = WebServer(app, host, quiet=False).start()
        running.append(web)
        return Server(host, web.port, app, guard, web)

    yield start
    gate.release.set()
    for web in running:
        web.stop()
