"""A real ``redis-server`` on a free port, and gateway instances started in-process (``create_app``)
on their own ports, in front of the session's sandbox.

redis-server comes from Debian's packages; ``redis_setup.sh`` installs it when missing.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import redis
import requests
from flask import Flask

from gateway import ops, triggers
from gateway.kintone import KintoneClient, RetryPolicy
from gateway.sandbox import SandboxServer
from gateway.security import add_user
from gateway.settings import (
    AuthScheme,
    GatewaySettings,
    KintoneSettings,
    Secret,
    Section,
    Settings,
)
from gateway.web import create_app
from gateway.web.server import WebServer
from tests.conftest import ADMIN
from tests.debian import installed

SETUP = Path(__file__).with_name("redis_setup.sh")
FAST_RETRY = RetryPolicy(retries=2, base_delay=0.01, max_delay=0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a redis-server of this test session."""
    binary = installed("redis-server", SETUP)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    _wait_for(redis.Redis.from_url(url))
    yield url
    process.terminate()
    process.wait(timeout=10)


def _wait_for(client: redis.Redis) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    redis.Redis.from_url(redis_server).flushall()
    return redis_server


@dataclass
class Instance:
    """One running gateway: ``get("/healthz")`` asks ``<origin>/healthz`` with its authtoken."""

    origin: str
    app: Flask
    token: str
    server: WebServer
    client: KintoneClient

    @property
    def ops(self) -> ops.Ops:
        return self.app.extensions[ops.EXTENSION]

    def get(self, path: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        headers = {**({"X-Authtoken": self.token} if auth else {}), **kwargs.pop("headers", {})}
        return requests.get(self.origin + path, headers=headers, timeout=60, **kwargs)

    def stop(self) -> None:
        self.server.stop()
        triggers.shutdown(self.app)  # its delivery workers would outlive it (and its Redis)
        self.client.close()


def settings_for(kintone_url: str, apps: tuple[int, ...] = (), *, max_concurrent: int = 10,
                 **sections: dict[str, str]) -> tuple[Settings, str]:
    """Settings of a gateway reading ``apps`` as the sandbox's admin, with one user ``ops``
    (every right) and the given extra sections; and that user's authtoken."""
    kintone = KintoneSettings(url=kintone_url, auth_scheme=AuthScheme.PASSWORD, user=ADMIN[0],
                              password=Secret(ADMIN[1]), apps=apps,
                              max_concurrent_requests=max_concurrent)
    # No ./triggers.sqlite, no ./idempotency.sqlite.
    sections = {"triggers": {"database": ":memory:"},
                "writes": {"idempotencydatabase": ":memory:"}, **sections}
    parsed = {name.lower(): Section(name.lower(), MappingProxyType(
        {key.lower(): value for key, value in values.items()})) for name, values in
        sections.items()}
    return add_user(Settings(kintone, GatewaySettings(), MappingProxyType(parsed)), "ops")


@pytest.fixture
def start_instance() -> Iterator[Callable[..., Instance]]:
    """``start_instance(settings, token)``: a gateway of its own on a free port."""
    running: list[Instance] = []

    def start(settings: Settings, token: str, **gateway: Any) -> Instance:
        settings = replace(settings, gateway=replace(settings.gateway, **gateway))
        client = KintoneClient(settings.kintone, retry=FAST_RETRY)
        app = create_app(settings, client=client)
        web = WebServer(app).start()
        instance = Instance(f"http://127.0.0.1:{web.port}", app, token, web, client)
        running.append(instance)
        return instance

    yield start
    for instance in running:
        instance.stop()
        if instance.ops.cluster is not None:
            instance.ops.cluster.close()


@pytest.fixture(scope="session")
def ops_app(server: SandboxServer) -> int:
    """An app of a few records, for the tests of this folder."""
    body = {"name": "Ops test", "code": "OPS",
            "fields": {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}},
            "records": [{"title": {"value": f"record {n}"}} for n in range(5)]}
    response = requests.post(f"{server.url}/__sandbox/apps", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["app"]
