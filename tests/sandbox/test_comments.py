"""Record comments over HTTP: paging, rendering, validation, authorship and the webhook."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.kintone_http import Kintone, error_of

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}


@pytest.fixture()
def record(admin: Kintone) -> tuple[int, int]:
    app = admin.make_app(FIELDS)
    rec = int(admin.ok("POST", "record", {"app": app, "record": {"title": {"value": "x"}}})["id"])
    return app, rec


def comment(client: Kintone, app: int, rec: int, text: str, mentions: list | None = None):
    body: dict = {"text": text}
    if mentions is not None:
        body["mentions"] = mentions
    return client.post("record/comment", {"app": app, "record": rec, "comment": body})


def listing(client: Kintone, app: int, rec: int, **params) -> dict:
    return client.ok("GET", "record/comments", params={"app": app, "record": rec, **params})


def test_ids_are_sequential_per_record_and_the_record_revision_stays(admin, alice, record):
    app, rec = record
    assert comment(alice, app, rec, "first").json() == {"id": "1"}
    assert comment(alice, app, rec, "second").json() == {"id": "2"}
    other = int(admin.ok("POST", "record", {"app": app, "record": {}})["id"])
    assert comment(alice, app, other, "elsewhere").json() == {"id": "1"}
    got = admin.ok("GET", "record", params={"app": app, "id": rec})["record"]
    assert got["$revision"]["value"] == "1"


def test_a_comment_reads_back_as_kintone_shows_it(alice, record):
    app, rec = record
    comment(alice, app, rec, "Please review.",
            [{"code": "bob", "type": "USER"}, {"code": "sales", "type": "ORGANIZATION"}])
    (got,) = listing(alice, app, rec)["comments"]
    assert got["id"] == "1"
    assert got["text"] == "Bob Sato Sales \nPlease review. "
    assert got["creator"] == {"code": "alice", "name": "Alice Ito"}
    assert got["mentions"] == [{"code": "bob", "type": "USER"},
                               {"code": "sales", "type": "ORGANIZATION"}]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", got["createdAt"])


def test_paging_newest_first_with_older_and_newer_flags(alice, record):
    app, rec = record
    assert listing(alice, app, rec) == {"comments": [], "older": False, "newer": False}
    for n in range(1, 13):
        comment(alice, app, rec, f"c{n}")
    first = listing(alice, app, rec)
    assert [c["id"] for c in first["comments"]] == [str(n) for n in range(12, 2, -1)]
    assert (first["older"], first["newer"]) == (True, False)
    middle = listing(alice, app, rec, offset=2, limit=3)
    assert [c["id"] for c in middle["comments"]] == ["10", "9", "8"]
    assert (middle["older"], middle["newer"]) == (True, True)
    oldest = listing(alice, app, rec, order="asc", limit=2)
    assert [c["id"] for c in oldest["comments"]] == ["1", "2"]
    assert (oldest["older"], oldest["newer"]) == (False, True)


@pytest.mark.parametrize(("params", "key", "message"), [
    ({"limit": 11}, "limit", "must be less than or equal to 10"),
    ({"order": "newest"}, "order", "must be one of the enum value"),
    ({"offset": -1}, "offset", "must be greater than or equal to 0"),
])
def test_listing_parameters_are_checked(alice, record, params, key, message):
    app, rec = record
    response = alice.get("record/comments", params={"app": app, "record": rec, **params})
    assert error_of(response) == (400, "CB_VA01")
    assert response.json()["errors"][key]["messages"] == [message]


@pytest.mark.parametrize(("body", "key"), [
    ({}, "comment.text"),
    ({"text": ""}, "comment.text"),
    ({"text": "x" * 65536}, "comment.text"),
    ({"text": "x", "mentions": [{"code": "bob", "type": "USER"}] * 11}, "comment.mentions"),
    ({"text": "x", "mentions": [{"code": "bob", "type": "PERSON"}]}, "comment.mentions[0].type"),
    ({"text": "x", "mentions": [{"type": "USER"}]}, "comment.mentions[0].code"),
])
def test_invalid_comments_are_refused(alice, record, body, key):
    app, rec = record
    response = alice.post("record/comment", {"app": app, "record": rec, "comment": body})
    assert error_of(response) == (400, "CB_VA01")
    assert key in response.json()["errors"]


def test_the_longest_text_is_accepted(alice, record):
    app, rec = record
    assert comment(alice, app, rec, "x" * 65535).status_code == 200


def test_unknown_mention_target_and_unknown_record(alice, record):
    app, rec = record
    response = comment(alice, app, rec, "hi", [{"code": "nobody", "type": "USER"}])
    assert error_of(response) == (400, "GAIA_IL26")
    assert error_of(comment(alice, app, 9999, "hi")) == (404, "GAIA_RE01")
    assert error_of(alice.get("record/comments", params={"app": app, "record": 9999})) == (
        404, "GAIA_RE01")
    assert listing(alice, app, rec)["comments"] == []


def test_comments_disabled_in_the_app(admin, record):
    app, rec = record
    admin.ok("PUT", "preview/app/settings", {"app": app, "enableComments": False})
    admin.ok("POST", "preview/app/deploy", {"apps": [{"app": app}]})
    assert error_of(comment(admin, app, rec, "hi")) == (400, "GAIA_RE12")


def test_only_the_author_deletes_and_ids_are_not_reused(admin, alice, record):
    app, rec = record
    comment(alice, app, rec, "one")
    comment(alice, app, rec, "two")
    target = {"app": app, "record": rec, "comment": 2}
    assert error_of(admin.delete("record/comment", target)) == (400, "GAIA_RE03")
    assert alice.ok("DELETE", "record/comment", target) == {}
    assert error_of(alice.delete("record/comment", target)) == (400, "GAIA_RE02")
    assert comment(alice, app, rec, "three").json() == {"id": "3"}
    assert [c["id"] for c in listing(alice, app, rec)["comments"]] == ["3", "1"]


def test_token_comments_are_by_administrator_and_fire_the_webhook(server, admin, record):
    app, rec = record
    token = requests.post(f"{server.url}/__sandbox/apps/{app}/tokens",
                          json={"rights": ["view"]}, timeout=10).json()["token"]
    requests.post(f"{server.url}/__sandbox/apps/{app}/webhooks", timeout=10,
                  json={"url": "http://127.0.0.1:9/hook", "events": ["ADD_RECORD_COMMENT"]})
    client = Kintone.with_tokens(server.url, token)
    assert comment(client, app, rec, "by token").status_code == 200
    (got,) = listing(client, app, rec)["comments"]
    assert got["creator"] == {"code": "Administrator", "name": "Administrator"}
    (payload,) = comment_deliveries(server.url, app)
    assert payload["comment"] == got
    assert payload["recordId"] == str(rec)


def comment_deliveries(url: str, app: int) -> list[dict]:
    """The comment events sent for ``app`` (delivery runs in the background: wait a little)."""
    for _ in range(50):
        log = requests.get(f"{url}/__sandbox/webhooks/deliveries", timeout=10).json()
        found = [d["payload"] for d in log["deliveries"]
                 if d["type"] == "ADD_RECORD_COMMENT" and d["payload"]["app"]["id"] == str(app)]
        if found:
            return found
        time.sleep(0.1)
    return []
