"""``app.json`` and ``apps.json`` over HTTP."""

from __future__ import annotations

import json
import re
import secrets

import pytest

from tests.kintone_http import Kintone, error_of

TEXT = {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}
MILLIS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@pytest.fixture(scope="module")
def family(admin) -> tuple[str, list[int]]:
    """Three deployed apps sharing a unique name prefix, plus one never-deployed app."""
    prefix = f"Family {secrets.token_hex(3)}"
    ids = [admin.make_app({"title": TEXT}, name=f"{prefix} {n}") for n in ("One", "Two", "Three")]
    admin.ok("POST", "preview/app", {"name": f"{prefix} Draft"})
    return prefix, ids


def test_app_json_shape(admin):
    app = admin.make_app({"title": TEXT}, name="Quotes")
    got = admin.ok("GET", "app", params={"id": app})
    assert set(got) == {"appId", "code", "name", "description", "spaceId", "threadId",
                        "createdAt", "creator", "modifiedAt", "modifier"}
    assert (got["appId"], got["code"], got["name"]) == (str(app), "", "Quotes")
    assert got["spaceId"] is None and got["threadId"] is None
    assert got["creator"] == {"code": "admin", "name": "Administrator User"}
    assert MILLIS.fullmatch(got["createdAt"]) and MILLIS.fullmatch(got["modifiedAt"])


def test_app_json_errors(admin):
    assert error_of(admin.get("app", {"id": 999999})) == (404, "GAIA_AP01")
    assert error_of(admin.get("app", {})) == (400, "CB_VA01")
    assert error_of(admin.get("app", {"id": 0})) == (400, "CB_VA01")


def test_app_json_with_a_token_of_that_app(admin, sandbox, server):
    app = admin.make_app({"title": TEXT})
    token = secrets.token_hex(8)
    with sandbox.db.transaction() as conn:
        conn.execute("INSERT INTO api_tokens (token, app, data) VALUES (?, ?, ?)",
                     (token, app, json.dumps({"rights": ["view"]})))
    client = Kintone.with_tokens(server.url, token)
    assert client.ok("GET", "app", params={"id": app})["appId"] == str(app)
    other = admin.make_app({"title": TEXT})
    assert error_of(client.get("app", {"id": other})) == (403, "GAIA_NO01")
    assert error_of(client.get("apps", {})) == (403, "GAIA_NO01")


def test_apps_filters_by_name_partially_and_case_insensitively(admin, family):
    prefix, ids = family
    got = admin.ok("GET", "apps", params={"name": prefix.lower()})["apps"]
    assert [a["appId"] for a in got] == [str(i) for i in ids]  # ascending, deployed only
    two = admin.ok("GET", "apps", params={"name": f"{prefix} tw"})["apps"]
    assert [a["name"] for a in two] == [f"{prefix} Two"]


def test_apps_filters_by_ids_and_pages(admin, family):
    _, ids = family
    params = {f"ids[{i}]": app for i, app in enumerate(reversed(ids))}
    got = admin.ok("GET", "apps", params=params)["apps"]
    assert [a["appId"] for a in got] == [str(i) for i in ids]
    page = admin.ok("GET", "apps", params={**params, "offset": 1, "limit": 1})["apps"]
    assert [a["appId"] for a in page] == [str(ids[1])]


def test_apps_filters_by_codes_exactly(admin, family, sandbox):
    _, ids = family
    code = f"FAM{secrets.token_hex(2).upper()}"
    with sandbox.db.transaction() as conn:
        conn.execute("UPDATE apps SET code = ? WHERE id = ?", (code, ids[0]))
    got = admin.ok("GET", "apps", params={"codes[0]": code})["apps"]
    assert [(a["appId"], a["code"]) for a in got] == [(str(ids[0]), code)]
    assert admin.ok("GET", "apps", params={"codes[0]": code.lower()})["apps"] == []


def test_apps_json_body_through_method_override(admin, family):
    _, ids = family
    body = {"ids": ids, "limit": 2}
    got = admin.ok("POST", "apps", body, headers={"X-HTTP-Method-Override": "GET"})["apps"]
    assert [a["appId"] for a in got] == [str(i) for i in ids[:2]]


@pytest.mark.parametrize("params, key, message", [
    ({"limit": 101}, "limit", "must be less than or equal to 100"),
    ({"limit": 0}, "limit", "must be greater than or equal to 1"),
    ({"offset": -1}, "offset", "must be greater than or equal to 0"),
    ({f"ids[{i}]": i + 1 for i in range(101)}, "ids", "size must be between 0 and 100"),
    ({f"codes[{i}]": f"C{i}" for i in range(101)}, "codes", "size must be between 0 and 100"),
    ({f"spaceIds[{i}]": i + 1 for i in range(101)}, "spaceIds",
     "size must be between 0 and 100"),
])
def test_apps_parameter_errors(admin, params, key, message):
    response = admin.get("apps", params)
    assert error_of(response) == (400, "CB_VA01")
    assert response.json()["errors"][key]["messages"] == [message]


def test_apps_hides_apps_the_user_cannot_view(admin, sandbox, server, family):
    _, ids = family
    sandbox.directory.add_user("viewer", "viewer-pw", "Viewer", admin=False)
    user = sandbox.directory.user("viewer")
    user["appRights"] = {str(ids[0]): []}
    with sandbox.db.transaction() as conn:
        conn.execute("UPDATE users SET data = ? WHERE login = 'viewer'", (json.dumps(user),))
    viewer = Kintone.with_password(server.url, "viewer", "viewer-pw")
    got = viewer.ok("GET", "apps", params={f"ids[{i}]": app for i, app in enumerate(ids)})
    assert [a["appId"] for a in got["apps"]] == [str(i) for i in ids[1:]]
