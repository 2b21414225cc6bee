"""Per-user rights: methods per entity set, checked coarsely before the view and exactly by
``require`` in it."""

from __future__ import annotations

import pytest

from gateway.security import Rights, add_user
from gateway.security.rights import RightsError
from tests.security.conftest import settings_of, token_header


@pytest.fixture
def server(serve):
    settings, reader = add_user(settings_of(), "reader", Rights.parse("GET:*"))
    settings, clerk = add_user(settings, "clerk", Rights.parse("GET:* POST,PATCH:Orders"))
    settings, default = add_user(settings, "plain")  # add_user's default: full rights
    server = serve(settings)
    server.tokens = {"reader": reader, "clerk": clerk, "plain": default}
    return server


def status(server, user: str, method: str, path: str) -> int:
    reply = server.call(method, path, token_header(server.tokens[user]), body=b"{}")
    if reply.status == 403:
        assert reply.json()["error"]["message"].startswith(f"User {user} may not use {method}")
    return reply.status


def test_a_reader_may_read_everything_and_change_nothing(server):
    assert status(server, "reader", "GET", "/api.rsc/Orders") == 200
    assert status(server, "reader", "GET", "/api.rsc/Customers(1)") == 200
    for method in ("POST", "PUT", "PATCH", "MERGE", "DELETE"):
        assert status(server, "reader", method, "/api.rsc/Orders") == 403


def test_rights_per_entity_set(server):
    assert status(server, "clerk", "POST", "/api.rsc/Orders") == 200
    assert status(server, "clerk", "PATCH", "/api.rsc/Orders(1)") == 200
    assert status(server, "clerk", "PUT", "/api.rsc/Orders(1)") == 200  # PUT covers PATCH
    assert status(server, "clerk", "POST", "/api.rsc/Customers") == 403
    assert status(server, "clerk", "DELETE", "/api.rsc/Orders(1)") == 403


def test_the_403_is_odata_json_naming_the_set(server):
    reply = server.call("POST", "/api.rsc/Customers", token_header(server.tokens["clerk"]))
    assert reply.status == 403
    assert reply.json() == {"error": {
        "code": "AccessDenied", "message": "User clerk may not use POST on Customers.",
        "target": "Customers"}}


def test_full_rights(server):
    assert status(server, "plain", "DELETE", "/api.rsc/Customers(3)") == 200


def test_users_default_to_read_only():
    from gateway.security.users import parse_user
    line = "hmac-sha256:" + "ab" * 32
    assert str(parse_user("x", line).rights) == "GET:*"


@pytest.mark.parametrize(("text", "shown"), [
    ("*:*", "*:*"),
    ("GET:* POST,PUT,DELETE:Orders,Customers", "GET:* POST,PUT,DELETE:Orders,Customers"),
    ("GET,POST,PUT,PATCH,DELETE:Orders", "*:Orders"),
    ("get,merge:Orders GET:Orders", "GET,PUT:Orders"),
])
def test_rights_text(text, shown):
    assert str(Rights.parse(text)) == shown
    assert Rights.parse(shown) == Rights.parse(text)


@pytest.mark.parametrize("text", ["GET", "FETCH:*", "GET:Orders-2", "GET:", ":*", ""])
def test_bad_rights_text(text):
    with pytest.raises(RightsError):
        Rights.parse(text)
