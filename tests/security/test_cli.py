"""``kintone-gateway users add``: the token printed once, only its keyed hash on disk, files
created for the owner only, and a running gateway that takes the new user without a restart."""

from __future__ import annotations

import argparse
import re
import stat
from datetime import UTC, datetime, timedelta

import pytest

from gateway.security.cli import add_users_command
from gateway.settings import SettingsError
from tests.security.conftest import basic, settings_of, token_header

LINE = re.compile(r"authtoken: (\S+) (\S+)\n")


def users(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="kintone-gateway")
    add_users_command(parser.add_subparsers(required=True))
    args = parser.parse_args(["users", *argv])
    return args.run(args)


def add(capsys, *argv: str) -> str:
    assert users("add", *argv) == 0
    name, token = LINE.fullmatch(capsys.readouterr().out).groups()
    assert name == argv[0].lower()
    return token


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GATEWAY_SETTINGS", raising=False)
    return tmp_path


def test_add_writes_only_a_keyed_hash_to_owner_only_files(workdir, capsys):
    token = add(capsys, "Alice", "--methods", "GET,PATCH", "--resources", "Orders,Customers",
                "--per-hour", "50", "--concurrent", "2")
    text = (workdir / "users.cfg").read_text()
    assert token not in text
    assert re.fullmatch(r"\[Users\]\nalice = hmac-sha256:[0-9a-f]{64}; rights=GET,PUT:Orders,"
                        r"Customers; per_hour=50; concurrent=2\n", text)
    assert mode(workdir / "users.cfg") == 0o600
    assert mode(workdir / "token.key") == 0o600
    assert len(token) >= 43


def test_the_token_works_against_a_gateway_already_running(workdir, capsys, serve):
    token = add(capsys, "alice", "--methods", "*")
    server = serve(settings_of())
    assert server.get("/api.rsc/Orders", token_header(token)).status == 200
    bob = add(capsys, "bob", "--resources", "Customers")
    assert server.get("/api.rsc/Customers", basic("bob", bob)).status == 200
    assert server.get("/api.rsc/Orders", basic("bob", bob)).status == 403
    assert server.call("POST", "/api.rsc/Customers", basic("bob", bob)).status == 403


def test_the_first_user_works_against_a_gateway_started_without_any(workdir, capsys, serve):
    server = serve(settings_of())
    token = add(capsys, "alice")
    assert server.get("/api.rsc/Orders", token_header(token)).status == 200


def test_a_broken_users_file_keeps_only_its_valid_users(workdir, capsys, serve, caplog):
    alice, bob, carol = (add(capsys, name) for name in ("alice", "bob", "carol"))
    server = serve(settings_of())
    lines = (workdir / "users.cfg").read_text().splitlines()
    bob_line = next(line for line in lines if line.startswith("bob"))
    # carol removed, alice's line broken, one line that is not a setting at all
    (workdir / "users.cfg").write_text(f"[Users]\nalice = oops\n{bob_line}\nnot a setting\n")
    assert server.get("/api.rsc/Orders", token_header(bob)).status == 200
    assert server.get("/api.rsc/Orders", token_header(alice)).status == 401
    assert server.get("/api.rsc/Orders", token_header(carol)).status == 401
    assert "unreadable line(s) 4 ignored" in caplog.text and "user alice:" in caplog.text
    assert "oops" not in caplog.text and bob_line.split()[2] not in caplog.text
    (workdir / "users.cfg").write_text(f"{bob_line}\n")  # no section header
    assert server.get("/api.rsc/Orders", token_header(bob)).status == 401


def test_a_broken_users_file_is_refused_at_startup(workdir, capsys, serve):
    add(capsys, "alice")
    with (workdir / "users.cfg").open("a") as file:
        file.write("bob = oops\n")
    with pytest.raises(SettingsError, match="user bob"):
        serve(settings_of())


def test_settings_name_the_files(workdir, capsys, serve):
    (workdir / "settings.cfg").write_text(
        "[Security]\nUsersFile = people.cfg\nTokenKey = env:TEST_GATEWAY_KEY\n")
    key = "k" * 40
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TEST_GATEWAY_KEY", key)
        token = add(capsys, "alice")
    assert (workdir / "people.cfg").exists()
    assert not (workdir / "token.key").exists()
    server = serve(settings_of({"Security": {"UsersFile": "people.cfg", "TokenKey": key}}))
    assert server.get("/api.rsc/", token_header(token)).status == 200


def test_expiry(workdir, capsys):
    add(capsys, "alice", "--expires", "90d")
    add(capsys, "bob", "--expires", "2031-01-02")
    text = (workdir / "users.cfg").read_text()
    written = re.search(r"alice = .*expires=(\S+)", text).group(1)
    expected = datetime.now(UTC) + timedelta(days=90)
    assert abs(datetime.fromisoformat(written) - expected) < timedelta(minutes=1)
    assert "expires=2031-01-02T00:00:00+00:00" in text


def test_appends_to_an_existing_file_keeping_its_comments(workdir, capsys):
    (workdir / "users.cfg").write_text("# who may call\n[Users]\n# nobody yet")
    add(capsys, "alice")
    text = (workdir / "users.cfg").read_text()
    assert text.startswith("# who may call\n[Users]\n# nobody yet\nalice = hmac-sha256:")


@pytest.mark.parametrize(("argv", "message"), [
    (["alice"], "user alice already exists"),
    (["bad:name"], "not a valid user name"),
    (["carol", "--methods", "FETCH"], "unknown method 'FETCH'"),
    (["carol", "--resources", "Orders-1"], "is not an entity set name"),
])
def test_refusals(workdir, capsys, argv, message):
    add(capsys, "alice")
    with pytest.raises(SystemExit) as exit_:
        users("add", *argv)
    assert message in str(exit_.value)


def test_a_bad_expiry_is_a_usage_error(workdir, capsys):
    with pytest.raises(SystemExit):
        users("add", "alice", "--expires", "soon")
    assert "neither an ISO date" in capsys.readouterr().err
