"""Process management over HTTP: status actions, assignee rules, bulk atomicity, assignees."""

from __future__ import annotations

import pytest
import requests

from tests.kintone_http import Kintone, error_of

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "n": {"type": "NUMBER", "code": "n", "label": "N"},
}


def _users(kind: str, *codes: str) -> list[dict]:
    return [{"entity": {"type": kind, "code": code}, "includeSubs": False} for code in codes]


def _state(name: str, index: int, kind: str, entities: list[dict]) -> dict:
    return {"name": name, "index": str(index), "assignee": {"type": kind, "entities": entities}}


PROCESS = {
    "enable": True,
    "states": {
        "Not started": _state("Not started", 0, "ONE", _users("FIELD_ENTITY", "Created_by")),
        "In progress": _state("In progress", 1, "ONE", _users("USER", "alice", "bob")),
        "Review": _state("Review", 2, "ANY", _users("ORGANIZATION", "sales")),
        "Done": _state("Done", 3, "ONE", []),
    },
    "actions": [
        {"name": "Start", "from": "Not started", "to": "In progress", "filterCond": ""},
        {"name": "Submit", "from": "In progress", "to": "Review", "filterCond": ""},
        {"name": "Approve", "from": "Review", "to": "Done", "filterCond": "",
         "executableUser": {"entities": _users("USER", "bob")}},
        {"name": "Escalate", "from": "In progress", "to": "Done", "filterCond": "n > 10"},
    ],
}
ALICE = {"code": "alice", "name": "Alice Ito"}
BOB = {"code": "bob", "name": "Bob Sato"}


@pytest.fixture(scope="module")
def app(admin: Kintone) -> int:
    return admin.make_app(FIELDS, process=PROCESS)


@pytest.fixture()
def bob(server) -> Kintone:
    return Kintone.with_password(server.url, "bob", "bob-password")


def new_record(client: Kintone, app: int, n: str = "") -> int:
    return int(client.ok("POST", "record", {"app": app, "record": {"n": {"value": n}}})["id"])


def act(client: Kintone, app: int, rec: int, action: str, **extra):
    return client.put("record/status", {"app": app, "id": rec, "action": action, **extra})


def read(client: Kintone, app: int, rec: int) -> dict:
    return client.ok("GET", "record", params={"app": app, "id": rec})["record"]


def test_a_new_record_starts_in_the_first_state_assigned_to_its_creator(alice, app):
    record = read(alice, app, new_record(alice, app))
    assert record["Status"] == {"type": "STATUS", "value": "Not started"}
    assert record["Assignee"] == {"type": "STATUS_ASSIGNEE", "value": [ALICE]}


def test_an_action_moves_the_status_and_adds_two_revisions(alice, app):
    rec = new_record(alice, app)
    response = act(alice, app, rec, "Start", assignee="bob", revision=1)
    assert response.json() == {"revision": "3"}
    record = read(alice, app, rec)
    assert record["Status"]["value"] == "In progress"
    assert record["Assignee"]["value"] == [BOB]
    assert record["$revision"]["value"] == "3"
    assert record["Updated_by"]["value"] == ALICE


def test_one_assignee_must_be_chosen_among_the_candidates(alice, app):
    rec = new_record(alice, app)
    assert error_of(act(alice, app, rec, "Start")) == (400, "GAIA_SA01")
    assert error_of(act(alice, app, rec, "Start", assignee="admin")) == (400, "GAIA_SA04")
    assert error_of(act(alice, app, rec, "Start", assignee="ghost")) == (400, "GAIA_SA04")
    assert read(alice, app, rec)["$revision"]["value"] == "1"


def test_only_current_assignees_and_executable_users_act(admin, alice, bob, app):
    rec = new_record(alice, app)
    assert error_of(act(admin, app, rec, "Start", assignee="bob")) == (403, "GAIA_NT01")
    act(alice, app, rec, "Start", assignee="bob")
    assert act(bob, app, rec, "Submit").status_code == 200
    record = read(bob, app, rec)
    assert record["Status"]["value"] == "Review"
    assert record["Assignee"]["value"] == [ALICE, BOB]  # ANY: every member of "sales"
    assert error_of(act(alice, app, rec, "Approve")) == (403, "GAIA_NT01")
    assert act(bob, app, rec, "Approve").status_code == 200
    record = read(bob, app, rec)
    assert (record["Status"]["value"], record["Assignee"]["value"]) == ("Done", [])


def test_an_api_token_acts_as_administrator_whoever_is_assigned(server, alice, app):
    rec = new_record(alice, app)
    token = requests.post(f"{server.url}/__sandbox/apps/{app}/tokens",
                          json={"rights": ["view", "edit"]}, timeout=10).json()["token"]
    client = Kintone.with_tokens(server.url, token)
    assert act(client, app, rec, "Start", assignee="bob").status_code == 200
    assert read(alice, app, rec)["Updated_by"]["value"] == {
        "code": "Administrator", "name": "Administrator"}


def test_unavailable_actions_and_stale_revisions(alice, app):
    rec = new_record(alice, app, n="5")
    assert error_of(act(alice, app, rec, "Submit")) == (400, "GAIA_IL03")
    assert error_of(act(alice, app, rec, "Start", assignee="bob", revision=7)) == (
        409, "GAIA_CO02")
    assert error_of(act(alice, app, 9999, "Start", assignee="bob")) == (404, "GAIA_RE01")
    act(alice, app, rec, "Start", assignee="alice")
    assert error_of(act(alice, app, rec, "Escalate")) == (400, "GAIA_IL03")  # filterCond
    alice.ok("PUT", "record", {"app": app, "id": rec, "record": {"n": {"value": "20"}}})
    assert act(alice, app, rec, "Escalate").status_code == 200


def test_missing_parameters(alice, app):
    response = alice.put("record/status", {"app": app, "id": new_record(alice, app)})
    assert error_of(response) == (400, "CB_VA01")
    assert "action" in response.json()["errors"]


def test_many_records_change_all_or_nothing(alice, app):
    first, second = new_record(alice, app), new_record(alice, app)
    ok = {"id": first, "action": "Start", "assignee": "bob"}
    response = alice.put("records/status", {"app": app, "records": [
        ok, {"id": second, "action": "Submit"}]})
    assert error_of(response) == (400, "GAIA_IL03")
    assert read(alice, app, first)["Status"]["value"] == "Not started"
    result = alice.ok("PUT", "records/status", {"app": app, "records": [
        ok, {"id": second, "action": "Start", "assignee": "alice", "revision": 1}]})
    assert result == {"records": [{"id": str(first), "revision": "3"},
                                  {"id": str(second), "revision": "3"}]}
    too_many = alice.put("records/status", {"app": app, "records": [ok] * 101})
    assert error_of(too_many) == (400, "CB_VA01")


def test_assignees_are_replaced_or_cleared_with_one_revision(alice, app):
    rec = new_record(alice, app)
    body = {"app": app, "id": rec, "assignees": ["bob", "admin", "bob"]}
    assert alice.ok("PUT", "record/assignees", {**body, "revision": 1}) == {"revision": "2"}
    names = [a["code"] for a in read(alice, app, rec)["Assignee"]["value"]]
    assert names == ["bob", "admin"]
    assert alice.ok("PUT", "record/assignees", {**body, "assignees": []}) == {"revision": "3"}
    assert read(alice, app, rec)["Assignee"]["value"] == []
    assert error_of(alice.put("record/assignees", {**body, "revision": 1})) == (409, "GAIA_CO02")
    assert error_of(alice.put("record/assignees", {**body, "assignees": ["ghost"]})) == (
        400, "GAIA_SA04")
    too_many = alice.put("record/assignees", {**body, "assignees": ["bob"] * 101})
    assert error_of(too_many) == (400, "CB_VA01")


def test_status_apis_refuse_apps_without_process_management(admin):
    plain = admin.make_app(FIELDS)
    rec = new_record(admin, plain)
    assert error_of(act(admin, plain, rec, "Start")) == (400, "GAIA_ST02")
    response = admin.put("record/assignees", {"app": plain, "id": rec, "assignees": []})
    assert error_of(response) == (400, "GAIA_ST02")
    assert "Status" not in read(admin, plain, rec)
