"""The test-only extension API (/__sandbox) and sandbox configuration files.

Resets and clock changes affect the whole sandbox, so this module runs its own.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
import requests

from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.config import (
    ConfigError,
    SandboxFile,
    UserSpec,
    apply_config,
    load_config,
    load_users_file,
    parse_config,
)
from tests.conftest import ADMIN
from tests.kintone_http import Kintone, error_of

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title", "required": True},
    "n": {"type": "NUMBER", "code": "n", "label": "N", "defaultValue": "5"},
    "tags": {"type": "CHECK_BOX", "code": "tags", "label": "Tags",
             "options": {"a": {"label": "a", "index": "0"}, "b": {"label": "b", "index": "1"}}},
}
CONFIG = {
    "language": "en",
    "timezone": "Asia/Tokyo",
    "users": [{"login": "admin", "password": "admin-password", "name": "Admin"},
              {"login": "ken", "password": "ken-pw", "name": "Ken Tanaka",
               "organizations": ["support"], "groups": ["tier2"], "language": "ja",
               "timezone": "UTC", "admin": False}],
    "organizations": [{"code": "support", "name": "Customer Support"}],
    "groups": [{"code": "tier2", "name": "Tier 2"}],
    "oauth": [{"token": "configured-token", "user": "ken", "scopes": ["k:app_record:read"]}],
}


@pytest.fixture(scope="module")
def server():
    sandbox = Sandbox()
    apply_config(sandbox, parse_config(CONFIG))
    srv = SandboxServer(sandbox).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server) -> Kintone:
    return Kintone.with_password(server.url, *ADMIN)


def ext(server, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{server.url}/__sandbox{path}", json=body, timeout=30)


def ext_ok(server, method: str, path: str, body: dict | None = None) -> dict:
    response = ext(server, method, path, body)
    assert response.status_code == 200, response.text
    return response.json()


def without_volatile(record: dict) -> dict:
    skip = {"$id", "$revision", "Record_number", "Created_datetime", "Updated_datetime"}
    return {code: field for code, field in record.items() if code not in skip}


# --- apps, records, tokens ----------------------------------------------------------------------

def test_an_app_is_seeded_in_one_call_and_equals_an_api_written_one(server, admin):
    record = {"title": {"value": "Widget"}, "tags": {"value": ["b"]}}
    seeded = ext_ok(server, "POST", "/apps", {
        "name": "Seeded", "code": "SEED", "fields": FIELDS, "records": [record],
        "tokens": [{"rights": ["view", "add"]}]})
    app = seeded["app"]
    assert seeded["ids"] == [1] and len(seeded["tokens"]) == 1
    api_id = Kintone.with_tokens(server.url, seeded["tokens"][0]).ok(
        "POST", "record", {"app": app, "record": record})["id"]
    stored = [admin.ok("GET", "record", params={"app": app, "id": i})["record"]
              for i in (1, api_id)]
    assert without_volatile(stored[0]) == without_volatile(stored[1])
    assert stored[0]["n"]["value"] == "5"  # defaults apply as for an API add
    assert stored[0]["Record_number"]["value"] == "SEED-1"
    assert stored[0]["Created_by"]["value"] == {"code": "Administrator", "name": "Administrator"}
    assert admin.ok("GET", "app", params={"id": app})["name"] == "Seeded"
    fields = admin.ok("GET", "app/form/fields", params={"app": app})["properties"]
    assert fields["n"]["defaultValue"] == "5" and fields["tags"]["type"] == "CHECK_BOX"


def test_seeding_acts_as_the_named_user(server, admin):
    seeded = ext_ok(server, "POST", "/apps", {"name": "Mine", "fields": FIELDS, "user": "ken",
                                               "records": [{"title": {"value": "x"}}]})
    record = admin.ok("GET", "record", params={"app": seeded["app"], "id": 1})["record"]
    assert record["Created_by"]["value"] == {"code": "ken", "name": "Ken Tanaka"}
    assert ext(server, "POST", "/apps", {"name": "x", "user": "nobody"}).status_code == 404


def test_bulk_record_seeding_has_no_100_limit_and_is_all_or_nothing(server, admin):
    app = ext_ok(server, "POST", "/apps", {"name": "Big", "fields": FIELDS})["app"]
    records = [{"title": {"value": f"r{i}"}, "n": {"value": str(i)}} for i in range(1500)]
    assert ext_ok(server, "POST", f"/apps/{app}/records", {"records": records})["ids"][-1] == 1500
    bad = [{"title": {"value": "ok"}}, {"n": {"value": "1"}}, {"n": {"value": "x"}}]
    response = ext(server, "POST", f"/apps/{app}/records", {"records": bad})
    assert error_of(response) == (400, "CB_VA01")
    errors = response.json()["errors"]
    assert "records[1].title.value" in errors and "records[2].title.value" in errors
    count = admin.ok("GET", "records",
                     params={"app": app, "totalCount": "true", "query": "limit 1"})
    assert count["totalCount"] == "1500"


def test_seeding_errors_are_reported_and_leave_nothing_behind(server, admin):
    assert ext(server, "POST", "/apps", {"fields": FIELDS}).status_code == 400
    assert ext(server, "POST", "/apps", {"name": "x", "records": "no"}).status_code == 400
    assert ext(server, "POST", "/apps/99999/records", {"records": []}).status_code == 404
    bad_field = {"bad code!": {"type": "SINGLE_LINE_TEXT", "code": "bad code!", "label": "x"}}
    response = ext(server, "POST", "/apps", {"name": "Broken", "fields": bad_field})
    assert error_of(response) == (400, "CB_VA01")
    apps = admin.ok("GET", "apps", params={"name": "Broken"})["apps"]
    assert apps == []


def test_tokens_carry_the_rights_they_were_given(server, admin):
    app = ext_ok(server, "POST", "/apps", {"name": "Tokens", "fields": FIELDS})["app"]
    viewer = ext_ok(server, "POST", f"/apps/{app}/tokens", {})["token"]
    writer = ext_ok(server, "POST", f"/apps/{app}/tokens", {"rights": ["add"]})["token"]
    assert len(viewer) == 40 and viewer.isalnum()
    body = {"app": app, "record": {"title": {"value": "t"}}}
    assert error_of(Kintone.with_tokens(server.url, viewer).post("record", body)) == (
        403, "GAIA_NO01")
    Kintone.with_tokens(server.url, writer).ok("POST", "record", body)
    assert ext(server, "POST", f"/apps/{app}/tokens", {"rights": ["fly"]}).status_code == 400
    for _ in range(18):
        ext_ok(server, "POST", f"/apps/{app}/tokens", {})
    assert ext(server, "POST", f"/apps/{app}/tokens", {}).status_code == 400  # 21st


# --- directory ----------------------------------------------------------------------------------

def test_users_organizations_and_groups_can_be_added(server):
    assert ext_ok(server, "POST", "/organizations", {"code": "ops", "name": "Ops"}) == {
        "code": "ops", "name": "Ops"}
    assert ext_ok(server, "POST", "/groups", {"code": "oncall"})["name"] == "oncall"
    user = ext_ok(server, "POST", "/users", {"login": "mai", "password": "pw", "name": "Mai",
                                             "organizations": ["ops"], "admin": False})
    assert "password" not in user and user["primaryOrganization"] == "ops"
    mai = Kintone.with_password(server.url, "mai", "pw")
    assert mai.get("apps").status_code == 200
    assert ext(server, "POST", "/users", {"login": "x"}).status_code == 400
    assert ext(server, "POST", "/users", {"login": "x", "password": "p",
                                          "timezone": "Mars/Base"}).status_code == 400
    assert ext(server, "POST", "/groups", {"name": "no code"}).status_code == 400


def test_spaces_are_created_and_apps_seeded_into_them(server, admin):
    space = ext_ok(server, "POST", "/spaces", {"name": "Guests", "isGuest": True,
                                               "members": ["ken"]})["id"]
    app = ext_ok(server, "POST", "/apps", {"name": "In space", "space": space, "fields": FIELDS,
                                           "records": [{"title": {"value": "g"}}]})["app"]
    guest = Kintone.with_password(server.url, *ADMIN, guest_space=space)
    info = guest.ok("GET", "app", params={"id": app})
    assert info["spaceId"] == str(space) and info["threadId"] == str(space)
    record = guest.ok("GET", "record", params={"app": app, "id": 1})["record"]
    assert record["title"]["value"] == "g"
    assert error_of(admin.get("record", {"app": app, "id": 1})) == (400, "GAIA_IL23")
    described = guest.ok("GET", "space", params={"id": space})
    assert described["isGuest"] is True and described["creator"]["code"] == "Administrator"
    assert ext(server, "POST", "/spaces", {"isGuest": True}).status_code == 400
    assert ext(server, "POST", "/apps", {"name": "x", "space": 99999}).status_code == 404


def test_oauth_tokens_authenticate_with_their_scopes(server, admin):
    app = ext_ok(server, "POST", "/apps", {"name": "OAuth", "fields": FIELDS,
                                           "records": [{"title": {"value": "o"}}]})["app"]
    token = ext_ok(server, "POST", "/oauth/tokens",
                   {"user": "ken", "scopes": ["k:app_record:read"]})["access_token"]
    for bearer in (token, "configured-token"):
        reader = Kintone(server.url, {"Authorization": f"Bearer {bearer}"})
        assert reader.ok("GET", "record", params={"app": app, "id": 1})["record"]
        refused = reader.post("record", {"app": app, "record": {"title": {"value": "w"}}})
        assert error_of(refused) == (403, "CB_NO02")
    assert ext(server, "POST", "/oauth/tokens", {"user": "ghost", "scopes": []}).status_code == 404


# --- clock and faults ---------------------------------------------------------------------------

def test_the_clock_can_be_pinned_shifted_and_released(server, admin):
    app = ext_ok(server, "POST", "/apps", {"name": "Clock", "fields": FIELDS})["app"]
    try:
        clock = ext_ok(server, "PUT", "/clock", {"now": "2024-05-01T09:30:45+09:00"})
        assert clock["now"] == "2024-05-01T00:30:45+00:00" and clock["timezone"] == "Asia/Tokyo"
        rec = admin.ok("POST", "record", {"app": app, "record": {"title": {"value": "t"}}})["id"]
        created = admin.ok("GET", "record", params={"app": app, "id": rec})["record"]
        assert created["Created_datetime"]["value"] == "2024-05-01T00:30:00Z"
        clock = ext_ok(server, "PUT", "/clock", {"offset_seconds": 3600})
        assert clock["current"].startswith("2024-05-01T01:30:45")
        naive = ext_ok(server, "PUT", "/clock", {"now": "2024-05-02T09:00:00", "offset_seconds": 0})
        assert naive["now"] == "2024-05-02T00:00:00+00:00"  # read in the organisation zone
        assert ext(server, "PUT", "/clock", {"now": "tomorrow"}).status_code == 400
        assert ext(server, "PUT", "/clock", {"timezone": "Nowhere/City"}).status_code == 400
        assert ext(server, "PUT", "/clock", {"offset_seconds": "1"}).status_code == 400
    finally:
        released = ext_ok(server, "PUT", "/clock", {"now": None, "offset_seconds": 0})
    assert released["now"] is None and released["offset_seconds"] == 0
    current = datetime.fromisoformat(ext_ok(server, "GET", "/clock")["current"])
    assert abs((current - datetime.now(UTC)).total_seconds()) < 60


def test_the_organisation_time_zone_drives_date_functions(server, admin):
    try:
        ext_ok(server, "PUT", "/clock", {"now": "2024-05-01T16:00:00Z", "timezone": "Asia/Tokyo"})
        fields = {"d": {"type": "DATE", "code": "d", "label": "D", "defaultNowValue": True}}
        app = ext_ok(server, "POST", "/apps", {"name": "TZ", "fields": fields, "records": [{}]})
        record = admin.ok("GET", "record", params={"app": app["app"], "id": 1})["record"]
        assert record["d"]["value"] == "2024-05-02"  # already the 2nd in Tokyo
    finally:
        ext_ok(server, "PUT", "/clock", {"now": None, "timezone": "Asia/Tokyo"})


def test_faults_are_read_and_validated(server):
    assert ext_ok(server, "GET", "/faults") == {"latency_ms": 0, "rate_429": 0.0,
                                                 "rate_503": 0.0, "rate_drop": 0.0}
    try:
        assert ext_ok(server, "PUT", "/faults", {"latency_ms": 5})["latency_ms"] == 5
        assert ext_ok(server, "PUT", "/faults", {"rate_503": 0.5}) == {
            "latency_ms": 5, "rate_429": 0.0, "rate_503": 0.5, "rate_drop": 0.0}
        for bad in ({"rate_429": 2}, {"rate_429": 0.6}, {"latency_ms": -1}, {"jitter": 1},
                    {"rate_drop": "x"}):
            assert ext(server, "PUT", "/faults", bad).status_code == 400
    finally:
        ext_ok(server, "PUT", "/faults", {"latency_ms": 0, "rate_503": 0})


# --- reset (last: it wipes the module's data) ---------------------------------------------------

def test_reset_forgets_data_and_restores_the_configuration(server, admin):
    app = ext_ok(server, "POST", "/apps", {"name": "Gone", "fields": FIELDS})["app"]
    ext_ok(server, "POST", "/users", {"login": "temp", "password": "pw"})
    ext_ok(server, "PUT", "/faults", {"latency_ms": 1})
    ext_ok(server, "PUT", "/clock", {"offset_seconds": 99})
    assert ext_ok(server, "POST", "/reset") == {}
    assert error_of(admin.get("app", {"id": app})) == (404, "GAIA_AP01")
    assert ext_ok(server, "GET", "/faults")["latency_ms"] == 0
    assert ext_ok(server, "GET", "/clock")["offset_seconds"] == 0
    temp = Kintone.with_password(server.url, "temp", "pw")
    assert error_of(temp.get("apps")) == (401, "CB_WA01")
    ken = Kintone.with_password(server.url, "ken", "ken-pw")
    assert ken.get("apps").status_code == 200
    bearer = Kintone(server.url, {"Authorization": "Bearer configured-token"})
    assert bearer.get("apps").status_code == 200
    again = ext_ok(server, "POST", "/apps", {"name": "Fresh"})["app"]
    assert again == 1  # ids start over


# --- configuration files ------------------------------------------------------------------------

def test_a_config_file_is_loaded_and_applied(tmp_path):
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps({**CONFIG, "language": "ja",
                                "basic_auth": {"user": "site", "password": "s3cret"}}))
    cfg = load_config(path)
    assert cfg.basic_auth == ("site", "s3cret") and cfg.users[1].organizations == ["support"]
    sandbox = Sandbox()
    apply_config(sandbox, cfg)
    assert sandbox.config.language == "ja" and sandbox.config.timezone == "Asia/Tokyo"
    assert sandbox.config.basic_auth == ("site", "s3cret")
    ken = sandbox.directory.user("ken")
    assert ken["language"] == "ja" and ken["groups"] == ["tier2"] and ken["admin"] is False
    assert sandbox.directory.organization("support")["name"] == "Customer Support"


def test_configured_spaces_are_created_once():
    sandbox = Sandbox()
    apply_config(sandbox, parse_config({**CONFIG, "spaces": [
        {"name": "Partners", "isGuest": True, "members": ["ken"], "creator": "admin"}]}))
    row = sandbox.db.conn.execute("SELECT id, data FROM spaces").fetchone()
    space = json.loads(row["data"])
    assert space["name"] == "Partners" and space["isGuest"] is True
    assert space["creator"] == {"code": "admin", "name": "Admin"}
    assert set(space["members"]) == {"admin", "ken"}
    apply_config(sandbox, parse_config({"spaces": [{"name": "Partners"}]}))  # a restart
    assert sandbox.db.conn.execute("SELECT count(*) FROM spaces").fetchone()[0] == 1


def test_a_users_file_lists_logins_passwords_and_names(tmp_path):
    path = tmp_path / "users.txt"
    path.write_text("# demo users\nalice alice-pw Alice Ito\n\nbob  bob-pw\n")
    users = load_users_file(path)
    assert users == [UserSpec("alice", "alice-pw", "Alice Ito"), UserSpec("bob", "bob-pw")]
    sandbox = Sandbox()
    apply_config(sandbox, SandboxFile(users=users))
    srv = SandboxServer(sandbox).start()
    try:
        token = base64.b64encode(b"alice:alice-pw").decode()
        response = requests.get(f"{srv.url}/k/v1/apps.json", timeout=10,
                                headers={"X-Cybozu-Authorization": token})
        assert response.status_code == 200
    finally:
        srv.stop()
    (tmp_path / "bad.txt").write_text("lonely\n")
    with pytest.raises(ConfigError, match="line 1"):
        load_users_file(tmp_path / "bad.txt")


@pytest.mark.parametrize(
    "data",
    [[], {"colour": "blue"}, {"language": "fr"}, {"timezone": "Mars/Base"},
     {"users": [{"login": "a"}]}, {"users": [{"login": "a", "password": "p", "age": 3}]},
     {"users": "alice"}, {"basic_auth": {"user": "x"}},
     {"oauth": [{"user": "ghost", "scopes": []}]}],
)
def test_invalid_configurations_are_refused(data):
    with pytest.raises(ConfigError):
        parse_config(data)


def test_invalid_json_is_a_config_error(tmp_path):
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(tmp_path / "broken.json")
