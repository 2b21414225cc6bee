"""Gateways started in-process on free ports, in front of the session's sandbox.

Each test module creates its apps through the sandbox's extension API, then starts a gateway
exposing just those apps (``Apps = ...``), so the other suites' apps in the shared sandbox never
change what a test sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
from flask import Flask

from gateway.http.cost import ClientGone
from gateway.kintone import KintoneClient, RetryPolicy
from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.demo import DEMO_LOGIN, DEMO_PASSWORD, seed_demo
from gateway.security import add_user
from gateway.settings import (
    AuthScheme,
    GatewaySettings,
    KintoneSettings,
    Secret,
    Section,
    Settings,
)
from gateway.triggers import shutdown as stop_triggers
from gateway.web import create_app
from gateway.web.server import WebServer
from tests.conftest import ADMIN, at_module_end

FOLLOWED_HEADERS = ("x-authtoken", "prefer", "accept")
# Trigger subscriptions and deliveries, and idempotency keys, kept in memory, not in
# ./triggers.sqlite and ./idempotency.sqlite.
IN_MEMORY_TRIGGERS = {"triggers": Section("triggers", {"database": ":memory:"}),
                      "writes": Section("writes", {"idempotencydatabase": ":memory:"})}
# Settings sections of a gateway that also takes the authtoken in the URL (off by default).
TOKEN_IN_URL = {"application": Section("application", {"allowauthtokeninurl": "true"})}
FAST_RETRY = RetryPolicy(retries=2, base_delay=0.01, max_delay=0.02)


class RecordingClient(KintoneClient):
    """Remembers the record queries it sends: ``("records" | "cursor", query, fields)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queries: list[tuple[str, str, list[str] | None]] = []

    def get_records(self, app: int, query: str = "", fields: Any = None, total_count: bool = False,
                    **options: Any):
        sent = ("records", query, fields)
        self.queries.append(sent)
        try:
            return super().get_records(app, query, fields, total_count, **options)
        except ClientGone:  # not sent: the next page's first calls, parked for a client gone
            self.queries.remove(sent)
            raise

    def create_cursor(self, app: int, query: str = "", fields: Any = None, size: int = 500):
        self.queries.append(("cursor", query, fields))
        return super().create_cursor(app, query, fields, size)


@dataclass
class Gateway:
    """A running gateway: ``get("Customers", params={...})`` asks ``<root>/Customers``."""

    root: str  # http://127.0.0.1:<port>/api.rsc
    app: Flask
    client: RecordingClient
    server: WebServer
    token: str  # the authtoken of the test user, who has every right
    stopped: bool = False

    @property
    def auth(self) -> dict[str, str]:
        return {"X-Authtoken": self.token}

    def url(self, path: str = "") -> str:
        return f"{self.root}/{path}" if path else self.root

    def get(self, path: str = "", params: dict | None = None, **kwargs: Any
            ) -> requests.Response:
        """``params`` are encoded as OData clients do: a space as %20, never as ``+``."""
        kwargs.setdefault("timeout", 60)
        kwargs["headers"] = {**self.auth, **kwargs.get("headers", {})}
        query = f"?{urlencode(params, quote_via=quote)}" if params else ""
        return requests.get(self.url(path) + query, **kwargs)

    def json(self, path: str = "", **kwargs: Any) -> dict:
        response = self.get(path, **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.server.stop()
        stop_triggers(self.app)  # its delivery workers
        self.client.close()


def kintone_settings(url: str, apps: tuple[int | str, ...] = (), **changes: Any
                     ) -> KintoneSettings:
    return KintoneSettings(url=url, auth_scheme=AuthScheme.PASSWORD, user=ADMIN[0],
                           password=Secret(ADMIN[1]), apps=apps, **changes)


@pytest.fixture(scope="session")
def start_gateway(server: SandboxServer) -> Iterator[Callable[..., Gateway]]:
    """``start_gateway([app ids], page_size=..., kintone=..., client=...)``: a gateway that
    stops when the test module that started it ends, or with the session if ``keep`` (one a
    session's fixture holds)."""
    kept: list[Gateway] = []

    def start(apps: list[int], *, page_size: int = 500, kintone: KintoneSettings | None = None,
              client: RecordingClient | None = None, sections: dict | None = None,
              keep: bool = False, **gateway: Any) -> Gateway:
        settings, token = add_user(Settings(
            kintone=kintone or kintone_settings(server.url, tuple(apps)),
            gateway=replace(GatewaySettings(), page_size=page_size, **gateway),
            sections={**IN_MEMORY_TRIGGERS, **(sections or {})},
        ), "test")
        client = client or RecordingClient(settings.kintone, retry=FAST_RETRY)
        app = create_app(settings, client=client)
        web = WebServer(app).start()
        gw = Gateway(f"http://127.0.0.1:{web.port}/api.rsc", app, client, web, token)
        if keep:
            kept.append(gw)
        else:
            at_module_end(gw.stop)
        return gw

    yield start
    for gw in kept:
        gw.stop()


@pytest.fixture(scope="session")
def demo_server() -> Iterator[SandboxServer]:
    """A sandbox of its own holding the demo's apps and records (seeding takes ~10 s)."""
    sandbox = Sandbox()
    seed_demo(sandbox)
    server = SandboxServer(sandbox).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo(start_gateway, demo_server: SandboxServer) -> Gateway:
    """A gateway in front of the demo data, as its demo user."""
    return start_gateway([], kintone=_demo_settings(demo_server), keep=True)


@pytest.fixture(scope="session")
def demo_gateway(start_gateway, demo_server: SandboxServer) -> Gateway:
    """The demo gateway for independent clients' read-only tests, whose oracle counts every
    comment of an app in one request (800 records' calls)."""
    return start_gateway([], kintone=_demo_settings(demo_server), keep=True,
                         max_calls_per_request=5000)


def _demo_settings(server: SandboxServer):
    return replace(kintone_settings(server.url), user=DEMO_LOGIN, password=Secret(DEMO_PASSWORD))


@pytest.fixture(scope="session")
def extension(server: SandboxServer) -> Callable[[str, dict], dict]:
    """``extension("apps", {...})``: a call to the sandbox's test-only API."""

    def post(path: str, body: dict) -> dict:
        response = requests.post(f"{server.url}/__sandbox/{path}", json=body, timeout=120)
        assert response.status_code == 200, response.text
        return response.json()

    return post


@pytest.fixture(scope="session")
def make_app(extension: Callable[[str, dict], dict]) -> Callable[..., tuple[int, list[int]]]:
    """``make_app(fields, records, name=..., code=...)`` → (app id, record ids)."""

    def make(fields: dict, records: list[dict] = (), **app: Any) -> tuple[int, list[int]]:
        app.setdefault("name", "Gateway test app")
        created = extension("apps", {"fields": fields, "records": list(records), **app})
        return created["app"], created["ids"]

    return make


def follow(first: requests.Response, headers: dict | None = None) -> list[dict]:
    """Every page from ``first`` on, by the next links (sent with ``headers``, and with the
    first request's authtoken and preferences)."""
    kept = {k: v for k, v in first.request.headers.items() if k.lower() in FOLLOWED_HEADERS}
    headers = {**kept, **(headers or {})}
    pages = []
    response = first
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        link = pages[-1].get("@odata.nextLink")
        if link is None:
            return pages
        response = requests.get(link, headers=headers, timeout=60)


def values(**fields: Any) -> dict:
    """A record in write format: ``values(title="x")`` → ``{"title": {"value": "x"}}``."""
    return {code: {"value": value} for code, value in fields.items()}
