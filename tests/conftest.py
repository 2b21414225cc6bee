"""One sandbox per test session, on a real socket; tests make their own apps in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from gateway.sandbox import Sandbox, SandboxServer
from tests.kintone_http import Kintone

ADMIN = ("admin", "admin-password")
USER = ("alice", "alice-password")
_AT_MODULE_END: list[Callable[[], None]] = []


def at_module_end(stop: Callable[[], None]) -> None:
    """Call ``stop`` when the running test module ends, whichever fixture started what it
    stops: a gateway left running keeps its threads (trigger delivery workers polling their
    queue every second) until the session ends, and hundreds of them slowed every later test."""
    _AT_MODULE_END.append(stop)


@pytest.fixture(scope="module", autouse=True)
def _end_of_module() -> Iterator[None]:
    yield  # set up before, so torn down after, the module's own fixtures
    while _AT_MODULE_END:
        _AT_MODULE_END.pop()()


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
