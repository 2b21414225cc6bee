"""Authtokens: where they are accepted, what a missing, wrong or expired one gets."""

from __future__ import annotations

import pytest

from gateway.security import FULL, READ_ONLY, add_user
from gateway.security.errors import CHALLENGE
from tests.security.conftest import basic, settings_of, token_header


@pytest.fixture
def alice(serve):
    settings, token = add_user(settings_of(), "alice", READ_ONLY)
    settings, bob_token = add_user(settings, "bob", FULL)
    return serve(settings), token, bob_token


def assert_unauthorized(reply, fragment: str) -> None:
    assert reply.status == 401
    assert reply.header("WWW-Authenticate") == CHALLENGE
    assert reply.header("Content-Type").startswith("application/json")
    error = reply.json()["error"]
    assert error["code"] == "Unauthorized"
    assert fragment in error["message"]


def test_no_token_is_401_with_a_basic_challenge(alice):
    server, _, _ = alice
    assert_unauthorized(server.get("/api.rsc/"), "authtoken is required")


def test_unknown_urls_need_a_token_too(alice):
    server, _, _ = alice
    assert server.get("/nothing/here").status == 401


@pytest.mark.parametrize("header", ["X-Authtoken", "x-cdata-authtoken"])
def test_token_headers(alice, header):
    server, token, _ = alice
    reply = server.get("/api.rsc/Orders", {header: token})
    assert reply.status == 200
    assert reply.json() == {"user": "alice", "entity_set": "Orders"}


def test_the_token_finds_its_own_user(alice):
    server, _, bob_token = alice
    assert server.get("/api.rsc/Orders", token_header(bob_token)).json()["user"] == "bob"


def test_a_wrong_token_is_401(alice):
    server, token, _ = alice
    assert_unauthorized(server.get("/api.rsc/Orders", token_header(token[:-1] + "x")),
                        "not valid")


def test_basic_auth_with_the_token_as_password(alice):
    server, token, _ = alice
    reply = server.get("/api.rsc/Orders", basic("Alice", token))  # names ignore case
    assert reply.status == 200
    assert reply.json()["user"] == "alice"


@pytest.mark.parametrize("user", ["bob", "nobody"])
def test_basic_auth_needs_the_token_of_that_user(alice, user):
    server, token, _ = alice
    assert_unauthorized(server.get("/api.rsc/Orders", basic(user, token)), "not valid")


def test_token_in_the_url_is_refused_by_default(alice):
    server, token, _ = alice
    # Refused even beside a valid header: the token has leaked into the URL, the caller must know.
    for path in (f"/api.rsc/@{token}/Orders", f"/api.rsc/Orders?@authtoken={token}"):
        reply = server.get(path, token_header(token))
        assert_unauthorized(reply, "AllowAuthtokenInURL")
        assert token not in reply.body.decode()


def test_token_in_the_url_when_allowed(serve):
    settings, token = add_user(settings_of({"Application": {"AllowAuthtokenInURL": "true"}}),
                               "carol")
    server = serve(settings)
    assert server.get(f"/api.rsc/@{token}/Orders").json()["user"] == "carol"
    assert server.get(f"/api.rsc/Orders?%40authtoken={token}").json()["user"] == "carol"
    assert server.get(f"/api.rsc/Orders?@authtoken={token}x").status == 401
    assert server.get("/api.rsc/@wrong/Orders").status == 401


def test_an_expired_token_is_401(serve, clock):
    from datetime import UTC, datetime
    expires = datetime.fromtimestamp(clock.now + 60, UTC)
    settings, token = add_user(settings_of(), "dave", expires=expires)
    server = serve(settings)
    assert server.get("/api.rsc/Orders", token_header(token)).status == 200
    clock.advance(60)
    assert_unauthorized(server.get("/api.rsc/Orders", token_header(token)), "expired")


def test_a_user_with_a_bad_hash_line_is_a_settings_error(serve):
    from gateway.settings import SettingsError
    with pytest.raises(SettingsError, match=r"\[Users\] user eve: the value must start"):
        serve(settings_of({"Users": {"eve": "plain-token"}}))


def test_no_users_refuses_everyone(serve):
    server = serve(settings_of())
    assert server.get("/api.rsc/", token_header("anything")).status == 401
