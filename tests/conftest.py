"""One sandbox per test session, on a real socket; tests make their own apps in it."""

from __future__ import annotations

import pytest

from gateway.sandbox import Sandbox, SandboxServer
from tests.kintone_http import Kintone

ADMIN = ("admin", "admin-password")
USER = ("alice", "alice-password")


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    sb = Sandbox()
    sb.directory.add_organization("sales", "Sales")
    sb.directory.add_group("admins", "Administrators")
    sb.directory.add_user(*ADMIN, "Administrator User", groups=["admins"])
    sb.directory.add_user(*USER, "Alice Ito", organizations=["sales"], admin=False)
    sb.directory.add_user("bob", "bob-password", "Bob Sato", organizations=["sales"], admin=False)
    return sb


@pytest.fixture(scope="session")
def server(sandbox: Sandbox):
    srv = SandboxServer(sandbox).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def admin(server) -> Kintone:
    return Kintone.with_password(server.url, *ADMIN)


@pytest.fixture(scope="session")
def alice(server) -> Kintone:
    return Kintone.with_password(server.url, *USER)
