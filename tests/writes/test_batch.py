"""OData JSON ``$batch``: atomicity groups as Kintone bulkRequests, lone requests, dependsOn."""

from __future__ import annotations

import pytest

from gateway.settings import Section
from tests.security.narrow import users
from tests.writes.conftest import call, error, ok

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title", "required": True},
    "code": {"type": "SINGLE_LINE_TEXT", "code": "code", "label": "Code", "unique": True},
}
SET = "Tasks"


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, name="Tasks")[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    return start_writer([app])


def count(admin, app: int) -> int:
    return int(admin.ok("GET", "records", params={"app": app, "totalCount": "true",
                                                  "query": "limit 1"})["totalCount"])


def batch(gw, *requests: dict, **kwargs) -> list[dict]:
    body = ok(call(gw, "POST", "$batch", {"requests": list(requests)}, **kwargs))
    return body["responses"]


def post(id: str, title: str | None, group: str | None = "g", **extra) -> dict:
    body = {} if title is None else {"title": title}
    return {"id": id, "method": "POST", "url": SET, "body": body, "atomicityGroup": group,
            **extra}


def test_a_group_failing_in_its_middle_writes_nothing(gw, admin, app):
    before = count(admin, app)
    existing = ok(call(gw, "POST", SET, {"title": "existing"}), 201)
    responses = batch(
        gw, post("1", "one"),
        {"id": "2", "method": "PATCH", "url": f"{SET}({existing['Id']})",
         "body": {"title": "changed"}, "atomicityGroup": "g"},
        post("3", None),  # title is required: Kintone refuses this one
        post("4", "four"),
    )
    assert [r["status"] for r in responses] == [424, 424, 400, 424]
    assert {r["atomicityGroup"] for r in responses} == {"g"}
    assert responses[2]["body"]["error"]["details"][0]["target"] == "title"
    assert count(admin, app) == before + 1
    assert ok(call(gw, "GET", f"{SET}({existing['Id']})"))["title"] == "existing"


def test_a_group_is_applied_whole(gw, admin, app):
    doomed = ok(call(gw, "POST", SET, {"title": "doomed"}), 201)["Id"]
    before = count(admin, app)
    responses = batch(
        gw, post("a", "first"), post("b", "second", headers={"Prefer": "return=minimal"}),
        {"id": "c", "method": "DELETE", "url": f"{SET}({doomed})", "atomicityGroup": "g"},
        {"id": "d", "method": "PATCH", "url": f"{SET}(code='K-1')", "body": {"title": "up"},
         "atomicityGroup": "g"},
    )
    assert [r["status"] for r in responses] == [201, 204, 204, 201]
    assert responses[0]["body"]["title"] == "first"
    assert responses[1]["headers"]["Location"].startswith(gw.url(SET))
    assert count(admin, app) == before + 2  # two added, one upserted, one deleted


def test_lone_requests_run_on_their_own_reads_included(gw, admin, app):
    responses = batch(
        gw, post("1", "lone", group=None),
        post("2", None, group=None),
        {"id": "3", "method": "GET", "url": "$1", "dependsOn": ["1"]},
        {"id": "4", "method": "PATCH", "url": "$1", "body": {"title": "patched"},
         "dependsOn": ["1"]},
        {"id": "5", "method": "GET", "url": f"{SET}/$count", "dependsOn": ["2"]},
        {"id": "6", "method": "GET", "url": f"/api.rsc/{SET}?$top=1"},
    )
    assert [r["status"] for r in responses] == [201, 400, 200, 204, 424, 200]
    assert responses[2]["body"]["title"] == "lone"
    assert len(responses[5]["body"]["value"]) == 1
    record_id = responses[0]["body"]["Id"]
    assert ok(call(gw, "GET", f"{SET}({record_id})"))["title"] == "patched"


def test_a_group_larger_than_kintone_allows_is_refused(gw, admin, app):
    before = count(admin, app)
    responses = batch(gw, *(post(str(n), f"t{n}") for n in range(21)))
    assert {r["status"] for r in responses} == {400}
    assert "at most 20" in responses[0]["body"]["error"]["message"]
    assert count(admin, app) == before


def test_what_a_group_cannot_hold(gw, admin, app):
    comment = {"id": "1", "method": "POST", "url": "Comments", "atomicityGroup": "g",
               "body": {"AppId": app, "RecordId": 1, "Text": "hi"}}
    responses = batch(gw, post("0", "x"), comment)
    assert [r["status"] for r in responses] == [424, 400]


@pytest.mark.parametrize("body", [
    {"requests": "no"},
    {"requests": [{"id": "1", "method": "GET"}]},
    {"requests": [{"id": "1", "method": "GET", "url": SET}] * 2},
    {"requests": [post("1", "a", "g"), post("2", "b", None), post("3", "c", "g")]},
])
def test_malformed_batches(gw, body):
    assert error(call(gw, "POST", "$batch", body), 400)


def test_entries_cannot_say_who_or_where_the_caller_is(start_writer, app):
    sections, headers = users({"clerk": "GET:*"}, {"security": Section("security", {
        "allowedips": "127.0.0.1", "trustedproxies": "127.0.0.1"})})
    gw = start_writer([app], sections=sections)
    forged = {"X-Forwarded-For": "203.0.113.9", "x-authtoken": "not-a-token",
              "Authorization": "Basic bm9ib2R5Om5vdGhpbmc="}
    responses = batch(gw, {"id": "1", "method": "GET", "url": SET, "headers": forged},
                      {**post("2", "as the batch's caller", None), "headers": headers["clerk"]})
    assert [r["status"] for r in responses] == [200, 201]
    assert "value" in responses[0]["body"]
