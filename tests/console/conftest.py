"""The demo's gateway, with the console: its sandbox seeded with the demo data, its users file
in a temporary directory, the demo user an admin and ``reader`` a read-only user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import pytest
import requests
from flask import Flask

from gateway.cli import demo_settings
from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.demo import DemoInfo, seed_demo
from gateway.security import READ_ONLY, add_user
from gateway.settings import Section, Settings
from gateway.web import create_app
from gateway.web.server import WebServer

LOGIN_ATTEMPTS = 40  # per client address; the rate-limit test uses its own address
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Demo:
    url: str  # http://127.0.0.1:<port>
    app: Flask
    info: DemoInfo
    token: str  # the demo user's, an admin
    reader_token: str
    users_file: Path
    settings: Settings

    def console(self, path: str = "") -> str:
        return f"{self.url}/console/{path}"

    def odata(self, path: str) -> str:
        return f"{self.url}/api.rsc/{path}"

    def logged_in(self, token: str | None = None) -> tuple[requests.Session, str]:
        """A session logged in as the demo user, and its CSRF token."""
        session = requests.Session()
        response = session.post(self.console("login"), data={"authtoken": token or self.token},
                                timeout=30)
        assert response.status_code == 200, response.text
        return session, csrf_of(response.text)


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """Another gateway with ``settings`` while the block runs; its URL."""
    web = WebServer(create_app(settings)).start()
    try:
        yield f"http://127.0.0.1:{web.port}"
    finally:
        web.stop()


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, page
    return found.group(1)


def with_section(settings: Settings, name: str, values: dict[str, str]) -> Settings:
    old = settings.section(name)
    section = Section(name.lower(), MappingProxyType({**old.values, **values}))
    return replace(settings, sections=MappingProxyType({**settings.sections,
                                                        name.lower(): section}))


@pytest.fixture(scope="session")  # seeding the demo takes seconds: once for every module
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    sandbox = Sandbox()
    info = seed_demo(sandbox)
    kintone = SandboxServer(sandbox).start()
    users_file = tmp_path_factory.mktemp("console") / "users.cfg"
    settings, token = demo_settings(kintone.url, info)
    settings = with_section(settings, "Security", {"usersfile": str(users_file)})
    settings = with_section(settings, "Console",
                            {"loginattemptsperhour": str(LOGIN_ATTEMPTS)})
    settings, reader_token = add_user(settings, "reader", READ_ONLY)
    app = create_app(settings)
    web = WebServer(app).start()
    yield Demo(f"http://127.0.0.1:{web.port}", app, info, token, reader_token, users_file,
               settings)
    web.stop()
    kintone.stop()
