"""Spaces, guest spaces and the guest-path rules (section 12) over HTTP."""

from __future__ import annotations

import json
import secrets

import pytest

from gateway.sandbox.spaces import create_space
from tests.kintone_http import Kintone, error_of

TEXT = {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}


def make_space(sandbox, *, guest: bool, members: list[str] | None = None, private=False) -> int:
    with sandbox.db.transaction() as conn:
        return create_space(conn, name=f"Space {secrets.token_hex(3)}", is_guest=guest,
                            creator="admin", now=sandbox.clock.now(), members=members,
                            is_private=private)


@pytest.fixture(scope="module")
def guest(sandbox, server, admin) -> tuple[int, int, Kintone]:
    """A guest space, a client on its guest path and a deployed app inside it."""
    space = make_space(sandbox, guest=True, members=["alice"])
    client = Kintone(server.url, admin.headers, guest_space=space)
    app = client.make_app({"title": TEXT}, space=space)
    return space, app, client


def test_guest_app_through_guest_path(guest):
    space, app, client = guest
    got = client.ok("GET", "app", params={"id": app})
    assert (got["spaceId"], got["threadId"]) == (str(space), str(space))
    record = client.ok("POST", "record", {"app": app, "record": {"title": {"value": "x"}}})
    assert client.ok("GET", "record", params={"app": app, "id": record["id"]})
    assert client.ok("GET", "app/form/fields", params={"app": app})["properties"]["title"]


@pytest.mark.parametrize("method, api, body", [
    ("GET", "app", {"id": "{app}"}),
    ("GET", "app/form/fields", {"app": "{app}"}),
    ("GET", "preview/app/form/layout", {"app": "{app}"}),
    ("GET", "records", {"app": "{app}"}),
])
def test_guest_app_on_normal_path_is_gaia_il23(admin, guest, method, api, body):
    _, app, _ = guest
    params = {k: str(app) if v == "{app}" else v for k, v in body.items()}
    assert error_of(admin.request(method, api, params=params)) == (400, "GAIA_IL23")


def test_guest_path_with_an_app_of_elsewhere_is_cb_no02(admin, sandbox, server, guest):
    _, app, client = guest
    normal = admin.make_app({"title": TEXT})
    assert error_of(client.get("app", {"id": normal})) == (403, "CB_NO02")
    other = make_space(sandbox, guest=True)
    elsewhere = Kintone(server.url, admin.headers, guest_space=other)
    assert error_of(elsewhere.get("app", {"id": app})) == (403, "CB_NO02")
    nowhere = Kintone(server.url, admin.headers, guest_space=999999)
    assert error_of(nowhere.get("app", {"id": app})) == (403, "CB_NO02")
    assert error_of(client.get("app", {"id": 999999})) == (403, "CB_NO02")


def test_admin_api_on_guest_paths(admin, guest):
    _, app, client = guest
    body = {"app": app, "properties": {"n": {"type": "NUMBER", "code": "n", "label": "N"}}}
    assert error_of(admin.post("preview/app/form/fields", body)) == (400, "GAIA_IL23")
    client.ok("POST", "preview/app/form/fields", body)
    assert error_of(admin.post("preview/app/deploy", {"apps": [{"app": app}]})) == (
        400, "GAIA_IL23")
    client.ok("POST", "preview/app/deploy", {"apps": [{"app": app}]})
    assert "n" in client.ok("GET", "app/form/fields", params={"app": app})["properties"]


def test_creating_apps_in_spaces(admin, sandbox, server, guest):
    space, _, client = guest
    assert error_of(admin.post("preview/app", {"name": "x", "space": space, "thread": space})) == (
        400, "GAIA_IL23")
    normal_space = make_space(sandbox, guest=False)
    assert error_of(client.post("preview/app", {"name": "x", "space": normal_space})) == (
        403, "CB_NO02")
    assert error_of(admin.post("preview/app", {"name": "x", "space": normal_space,
                                               "thread": 999999})) == (400, "CB_VA01")
    assert error_of(admin.post("preview/app", {"name": "x", "space": 999999})) == (
        404, "GAIA_SP01")
    app = admin.make_app({"title": TEXT}, space=normal_space)
    got = admin.ok("GET", "app", params={"id": app})
    assert (got["spaceId"], got["threadId"]) == (str(normal_space), str(normal_space))
    implicit = int(client.ok("POST", "preview/app", {"name": "In guest"})["app"])
    client.ok("POST", "preview/app/deploy", {"apps": [{"app": implicit}]})
    assert client.ok("GET", "app", params={"id": implicit})["spaceId"] == str(space)


def test_apps_json_lists_guest_apps_on_both_paths(admin, guest):
    space, app, client = guest
    normal_path = admin.ok("GET", "apps", params={"ids[0]": app})["apps"]
    assert [a["spaceId"] for a in normal_path] == [str(space)]
    on_guest_path = client.ok("GET", "apps", params={})["apps"]
    assert {a["spaceId"] for a in on_guest_path} == {str(space)}
    assert str(app) in {a["appId"] for a in on_guest_path}


def test_space_json(admin, sandbox, guest):
    space = make_space(sandbox, guest=False, members=["alice", "bob"])
    app = admin.make_app({"title": TEXT}, name="Spaced", space=space)
    got = admin.ok("GET", "space", params={"id": space})
    assert (got["id"], got["defaultThread"], got["isGuest"], got["memberCount"]) == (
        str(space), str(space), False, "3")
    assert got["creator"] == {"code": "admin", "name": "Administrator User"}
    attached = got["attachedApps"]
    assert [(a["appId"], a["name"], a["threadId"]) for a in attached] == [
        (str(app), "Spaced", str(space))]
    assert "spaceId" not in attached[0]
    assert error_of(admin.get("space", {"id": 999999})) == (404, "GAIA_SP01")


def test_guest_space_json_needs_guest_path(admin, guest):
    space, app, client = guest
    got = client.ok("GET", "space", params={"id": space})
    assert got["isGuest"] is True and str(app) in [a["appId"] for a in got["attachedApps"]]
    assert error_of(admin.get("space", {"id": space})) == (400, "GAIA_IL23")


def test_space_json_membership_and_tokens(sandbox, server, admin, alice):
    private = make_space(sandbox, guest=False, private=True)
    assert error_of(alice.get("space", {"id": private})) == (403, "CB_NO02")
    shared = make_space(sandbox, guest=False, private=True, members=["alice"])
    assert alice.ok("GET", "space", params={"id": shared})["isPrivate"] is True
    app = admin.make_app({"title": TEXT}, space=shared)
    token = secrets.token_hex(8)
    with sandbox.db.transaction() as conn:
        conn.execute("INSERT INTO api_tokens (token, app, data) VALUES (?, ?, ?)",
                     (token, app, json.dumps({"rights": ["view", "manage"]})))
    token_client = Kintone.with_tokens(server.url, token)
    assert error_of(token_client.get("space", {"id": shared})) == (403, "GAIA_NO01")
