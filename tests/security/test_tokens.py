"""Tokens and the key that hashes them."""

from __future__ import annotations

import pytest

from gateway.security.tokens import KeyMissing, generate_token, load_key
from gateway.security.users import parse_user
from gateway.settings import SettingsError
from tests.security.conftest import settings_of


def security(**values: str):
    return settings_of({"Security": values}).section("Security")


def test_tokens_are_long_random_and_url_safe():
    tokens = {generate_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) == 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_the_hash_depends_on_the_key():
    token = generate_token()
    first, second = load_key(security(TokenKey="a" * 32)), load_key(security(TokenKey="b" * 32))
    assert first.hash(token) != second.hash(token)
    assert first.hash(token) == load_key(security(TokenKey="a" * 32)).hash(token)
    assert token not in first.hash(token)
    assert "a" * 32 not in repr(first)


def test_a_short_key_is_refused():
    with pytest.raises(SettingsError, match="TokenKey: must be at least 32 characters"):
        load_key(security(TokenKey="short"))


def test_the_key_file(tmp_path):
    path = tmp_path / "gw.key"
    with pytest.raises(KeyMissing):
        load_key(security(TokenKeyFile=str(path)))
    created = load_key(security(TokenKeyFile=str(path)), create=True)
    assert load_key(security(TokenKeyFile=str(path))) == created
    path.write_text("tiny\n")
    with pytest.raises(SettingsError, match="holds no usable key"):
        load_key(security(TokenKeyFile=str(path)))


@pytest.mark.parametrize(("line", "problem"), [
    ("hmac-sha256:" + "a" * 64 + "; rights=GET:*; colour=red", "unexpected 'colour=red'"),
    ("hmac-sha256:" + "a" * 64 + "; per_hour=-1", "per_hour: -1 is out of range"),
    ("hmac-sha256:" + "a" * 64 + "; expires=someday", "expires: Invalid isoformat"),
    ("hmac-sha256:" + "a" * 64 + "; rights=GET:* ; rights=*:*", "each once"),
])
def test_bad_user_lines_name_the_problem(line, problem):
    with pytest.raises(ValueError, match=problem) as error:
        parse_user("alice", line)
    assert "a" * 64 not in str(error.value)
