"""A private sandbox for the Kintone client's tests: they inject faults and count cursors,
which must not disturb (or be disturbed by) tests sharing the session sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from gateway.kintone import KintoneClient, RetryPolicy
from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.state import Faults
from gateway.settings import AuthScheme, KintoneSettings, Secret

ADMIN = ("admin", "admin-password")
FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "price": {"type": "NUMBER", "code": "price", "label": "Price"},
    "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku", "label": "SKU", "unique": True},
}
FAST_RETRY = RetryPolicy(retries=3, base_delay=0.01, max_delay=0.02)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    sb = Sandbox()
    sb.directory.add_user(*ADMIN, "Administrator User")
    return sb


@pytest.fixture(scope="module")
def server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    srv = SandboxServer(sandbox).start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def no_faults(sandbox: Sandbox) -> Iterator[None]:
    yield
    sandbox.faults = Faults()


@pytest.fixture(scope="module")
def extension(server: SandboxServer) -> Callable[..., dict]:
    """``extension("apps", {...})``: a call to the sandbox's test-only API."""

    def post(path: str, body: dict[str, Any]) -> dict:
        response = requests.post(f"{server.url}/__sandbox/{path}", json=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    return post


@pytest.fixture(scope="module")
def password_settings(server: SandboxServer) -> KintoneSettings:
    return KintoneSettings(url=server.url, auth_scheme=AuthScheme.PASSWORD, user=ADMIN[0],
                           password=Secret(ADMIN[1]))


@pytest.fixture(scope="module")
def connect(password_settings: KintoneSettings) -> Iterator[Callable[..., KintoneClient]]:
    """``connect(**settings changes)``: a client with fast retries, closed after the module."""
    clients: list[KintoneClient] = []

    def make(**changes: Any) -> KintoneClient:
        client = KintoneClient(replace(password_settings, **changes), retry=FAST_RETRY)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="module")
def client(connect: Callable[..., KintoneClient]) -> KintoneClient:
    return connect()


def records(count: int, start: int = 0) -> list[dict]:
    return [{"title": {"value": f"item {n}"}, "price": {"value": str(n)},
             "sku": {"value": f"SKU-{n:05d}"}} for n in range(start, start + count)]


class CountingClient(KintoneClient):
    """Counts the record pages asked for, to see that reading is lazy."""

    pages = 0

    def get_records(self, *args, **kwargs):
        self.pages += 1
        return super().get_records(*args, **kwargs)


@pytest.fixture
def counting(password_settings) -> CountingClient:
    with CountingClient(password_settings) as client:
        yield client


def ids(records) -> list[int]:
    return [int(r["$id"]["value"]) for r in records]
