"""What the console's Users page does to the users file: lines changed in place (comments and
other sections kept), the file replaced atomically with mode 600, and never without an admin."""

from __future__ import annotations

import secrets
import stat
import time
from pathlib import Path
from types import MappingProxyType

import pytest

from gateway.console.users import Refused, UserAdmin, is_admin
from gateway.security.authn import Authenticator
from gateway.security.users import UserStore
from gateway.settings import AuthScheme, GatewaySettings, KintoneSettings, Section, Settings

HEADER = "# who may call\n[Other]\nkeep = me\n\n[Users]\n# the admins\n"


def admin_of(path: Path) -> UserAdmin:
    sections = {"security": Section("security", MappingProxyType({
        "usersfile": str(path), "tokenkey": secrets.token_hex(32)}))}
    settings = Settings(KintoneSettings("http://kintone.invalid", AuthScheme.PASSWORD),
                        GatewaySettings(), MappingProxyType(sections))
    return UserAdmin(Authenticator(settings, UserStore(settings), time.time))


@pytest.fixture
def users(tmp_path: Path) -> UserAdmin:
    path = tmp_path / "users.cfg"
    path.write_text(HEADER)
    return admin_of(path)


def test_changes_keep_the_rest_of_the_file_and_its_mode(users: UserAdmin):
    path = users.store.path
    root = users.add("root", "*:*", "").user
    users.add("reader", "GET:*", "2030-01-01")
    assert is_admin(root) and users.store.get("reader").expires.year == 2030
    users.change_rights("reader", "GET,POST:Orders")
    text = path.read_text()
    assert text.startswith(HEADER)
    assert "reader = hmac-sha256:" in text and "rights=GET,POST:Orders" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users.revoke("reader")
    assert users.store.get("reader") is None
    assert path.read_text().startswith(HEADER)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_rotated_token_replaces_the_old_one(users: UserAdmin):
    first = users.add("root", "*:*", "")
    second = users.rotate("root")
    assert second.token != first.token
    assert second.user.rights == first.user.rights
    assert users.store.get("root").token_hash == second.user.token_hash


def test_the_last_admin_is_neither_removed_nor_demoted(users: UserAdmin):
    users.add("root", "*:*", "")
    with pytest.raises(Refused, match="last admin"):
        users.revoke("root")
    with pytest.raises(Refused, match="last admin"):
        users.change_rights("root", "GET:*")
    users.add("deputy", "*:*", "")
    users.change_rights("root", "GET:*")
    with pytest.raises(Refused, match="last admin"):
        users.revoke("deputy")
    assert is_admin(users.store.get("deputy"))


def test_bad_input_changes_nothing(users: UserAdmin):
    users.add("root", "*:*", "")
    before = users.store.path.read_text()
    for change in (lambda: users.add("root", "*:*", ""), lambda: users.add("bad name", "", ""),
                   lambda: users.add("x", "FLY:*", ""), lambda: users.add("y", "", "soon"),
                   lambda: users.revoke("nobody")):
        with pytest.raises(ValueError):
            change()
    assert users.store.path.read_text() == before
