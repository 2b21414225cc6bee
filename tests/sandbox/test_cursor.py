"""The cursor API over HTTP: frozen ids, live values, paging, ownership, limit and expiry.

Cursors are counted per domain and expire by the sandbox clock, so this module runs its own
sandbox instead of the shared one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests

from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.config import SandboxFile, UserSpec, apply_config
from tests.conftest import ADMIN, USER
from tests.kintone_http import Kintone, error_of

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "n": {"type": "NUMBER", "code": "n", "label": "N"},
}


@pytest.fixture(scope="module")
def server():
    sandbox = Sandbox()
    apply_config(sandbox, SandboxFile(users=[UserSpec(*ADMIN), UserSpec(*USER, admin=False)]))
    srv = SandboxServer(sandbox).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server) -> Kintone:
    return Kintone.with_password(server.url, *ADMIN)


@pytest.fixture(scope="module")
def alice(server) -> Kintone:
    return Kintone.with_password(server.url, *USER)


def seeded_app(admin: Kintone, count: int) -> int:
    app = admin.make_app(FIELDS)
    for start in range(0, count, 100):
        records = [{"title": {"value": f"r{n}"}, "n": {"value": str(n)}}
                   for n in range(start, min(start + 100, count))]
        admin.ok("POST", "records", {"app": app, "records": records})
    return app


def open_cursor(client: Kintone, body: dict) -> tuple[str, str]:
    created = client.ok("POST", "records/cursor", body)
    return created["id"], created["totalCount"]


def page(client: Kintone, cursor_id: str) -> dict:
    return client.ok("GET", "records/cursor", params={"id": cursor_id})


def set_clock(server, **body) -> None:
    requests.put(f"{server.url}/__sandbox/clock", json=body, timeout=10).raise_for_status()


def test_pages_through_the_query_in_order_and_then_forgets_the_cursor(admin):
    app = seeded_app(admin, 250)
    cursor_id, total = open_cursor(admin, {"app": app, "fields": ["n", "$id"],
                                           "query": "n >= 0 order by n asc", "size": 100})
    assert UUID.fullmatch(cursor_id) and total == "250"
    pages = [page(admin, cursor_id) for _ in range(3)]
    assert [(len(p["records"]), p["next"]) for p in pages] == [
        (100, True), (100, True), (50, False)]
    numbers = [int(r["n"]["value"]) for p in pages for r in p["records"]]
    assert numbers == list(range(250))
    assert set(pages[0]["records"][0]) == {"n", "$id"}
    assert error_of(admin.get("records/cursor", {"id": cursor_id})) == (404, "GAIA_CN01")


def test_default_size_order_and_string_id_parameters(admin):
    app = seeded_app(admin, 120)
    cursor_id, _ = open_cursor(admin, {"app": str(app)})
    first = page(admin, cursor_id)
    assert len(first["records"]) == 100 and first["next"] is True
    ids = [int(r["$id"]["value"]) for r in first["records"]]
    assert ids == sorted(ids, reverse=True)  # no order by: $id desc, like records.json
    assert set(first["records"][0]) >= {"title", "n", "$id", "$revision", "Record_number"}
    admin.ok("DELETE", "records/cursor", {"id": cursor_id})


def test_ids_are_fixed_at_creation_but_values_are_read_at_each_page(admin):
    app = seeded_app(admin, 5)
    cursor_id, total = open_cursor(admin, {"app": app, "query": "n < 3 order by n asc"})
    assert total == "3"
    admin.ok("POST", "record", {"app": app, "record": {"n": {"value": "1"}}})  # matches, too late
    admin.ok("PUT", "record", {"app": app, "id": 1, "record": {"title": {"value": "changed"}}})
    admin.ok("DELETE", "records", {"app": app, "ids": [2]})
    result = page(admin, cursor_id)
    assert [r["$id"]["value"] for r in result["records"]] == ["1", "3"]
    assert result["records"][0]["title"]["value"] == "changed"
    assert result["records"][0]["$revision"]["value"] == "2"
    assert result["next"] is False


def test_a_page_may_be_empty_while_more_pages_follow(admin):
    app = seeded_app(admin, 4)
    cursor_id, _ = open_cursor(admin, {"app": app, "query": "order by $id asc", "size": 2})
    admin.ok("DELETE", "records", {"app": app, "ids": [1, 2]})
    assert page(admin, cursor_id) == {"records": [], "next": True}
    assert [r["$id"]["value"] for r in page(admin, cursor_id)["records"]] == ["3", "4"]


def test_an_empty_result_answers_one_empty_last_page(admin):
    app = seeded_app(admin, 3)
    cursor_id, total = open_cursor(admin, {"app": app, "query": "n > 100"})
    assert total == "0"
    assert page(admin, cursor_id) == {"records": [], "next": False}
    assert error_of(admin.get("records/cursor", {"id": cursor_id})) == (404, "GAIA_CN01")


@pytest.mark.parametrize(
    ("body", "key"),
    [({"size": 0}, "size"), ({"size": 501}, "size"), ({"size": "x"}, "size"),
     ({"query": "n > 1 limit 10"}, "query"), ({"query": "offset 5"}, "query"),
     ({"query": "n >"}, "query")],
)
def test_invalid_size_and_paging_in_the_query_are_refused(admin, body, key):
    app = seeded_app(admin, 1)
    response = admin.post("records/cursor", {"app": app, **body})
    assert error_of(response) == (400, "CB_VA01")
    assert key in response.json()["errors"]


def test_unknown_app_and_missing_parameters(admin):
    assert error_of(admin.post("records/cursor", {"app": 99999})) == (404, "GAIA_AP01")
    missing = admin.get("records/cursor")
    assert error_of(missing) == (400, "CB_VA01") and "id" in missing.json()["errors"]
    unknown = admin.get("records/cursor", {"id": "00000000-0000-0000-0000-000000000000"})
    assert error_of(unknown) == (404, "GAIA_CN01")
    assert error_of(admin.delete("records/cursor", {"id": "nope"})) == (404, "GAIA_CN01")


def test_delete_releases_the_cursor_with_a_body_or_a_query_string(admin):
    app = seeded_app(admin, 3)
    first, _ = open_cursor(admin, {"app": app})
    assert admin.ok("DELETE", "records/cursor", {"id": first}) == {}
    assert error_of(admin.get("records/cursor", {"id": first})) == (404, "GAIA_CN01")
    second, _ = open_cursor(admin, {"app": app})
    response = admin.request("DELETE", "records/cursor", params={"id": second})
    assert response.status_code == 200 and response.json() == {}
    assert error_of(admin.delete("records/cursor", {"id": second})) == (404, "GAIA_CN01")


def test_only_the_creating_user_or_token_may_use_a_cursor(server, admin, alice):
    app = seeded_app(admin, 3)
    cursor_id, _ = open_cursor(admin, {"app": app})
    assert error_of(alice.get("records/cursor", {"id": cursor_id})) == (404, "GAIA_CN01")
    assert error_of(alice.delete("records/cursor", {"id": cursor_id})) == (404, "GAIA_CN01")
    admin.ok("DELETE", "records/cursor", {"id": cursor_id})

    mint = f"{server.url}/__sandbox/apps/{app}/tokens"
    token, other = (requests.post(mint, json={"rights": ["view"]}, timeout=10).json()["token"]
                    for _ in range(2))
    owner, stranger = Kintone.with_tokens(server.url, token), Kintone.with_tokens(server.url, other)
    cursor_id, _ = open_cursor(owner, {"app": app, "size": 1})
    assert error_of(stranger.get("records/cursor", {"id": cursor_id})) == (404, "GAIA_CN01")
    assert error_of(admin.get("records/cursor", {"id": cursor_id})) == (404, "GAIA_CN01")
    assert len(page(owner, cursor_id)["records"]) == 1
    owner.ok("DELETE", "records/cursor", {"id": cursor_id})


def test_a_token_without_view_right_cannot_open_a_cursor(server, admin):
    app = seeded_app(admin, 1)
    mint = f"{server.url}/__sandbox/apps/{app}/tokens"
    token = requests.post(mint, json={"rights": ["add"]}, timeout=10).json()["token"]
    response = Kintone.with_tokens(server.url, token).post("records/cursor", {"app": app})
    assert error_of(response) == (403, "GAIA_NO01")


def test_the_domain_holds_at_most_ten_cursors(admin, alice):
    app = seeded_app(admin, 3)
    opened = [open_cursor(admin if i % 2 else alice, {"app": app, "size": 1})[0]
              for i in range(10)]
    refused = admin.post("records/cursor", {"app": app})
    assert error_of(refused) == (429, "GAIA_TM12")
    assert refused.headers["X-Cybozu-Error"] == "GAIA_TM12"
    admin.ok("DELETE", "records/cursor", {"id": opened[1]})  # releasing frees a place
    page(admin, open_cursor(admin, {"app": app, "size": 5})[0])  # so does reading the last page
    opened[1] = open_cursor(admin, {"app": app})[0]
    assert error_of(alice.post("records/cursor", {"app": app})) == (429, "GAIA_TM12")
    for i, cursor_id in enumerate(opened):
        (admin if i % 2 else alice).ok("DELETE", "records/cursor", {"id": cursor_id})


def test_cursors_expire_ten_minutes_after_their_last_use(server, admin):
    app = seeded_app(admin, 5)
    start = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    set_clock(server, now=start.isoformat(), offset_seconds=0)
    try:
        cursor_id, _ = open_cursor(admin, {"app": app, "size": 1})
        idle, _ = open_cursor(admin, {"app": app, "size": 1})
        set_clock(server, offset_seconds=9 * 60)
        page(admin, cursor_id)  # used at +9 min: alive until +19 min
        set_clock(server, offset_seconds=18 * 60)
        assert error_of(admin.get("records/cursor", {"id": idle})) == (404, "GAIA_CN01")
        page(admin, cursor_id)  # +18 min: alive until +28 min
        set_clock(server, offset_seconds=int(timedelta(minutes=28).total_seconds()))
        assert error_of(admin.get("records/cursor", {"id": cursor_id})) == (404, "GAIA_CN01")
        # Expired cursors no longer count towards the domain's limit.
        for cursor in [open_cursor(admin, {"app": app})[0] for _ in range(10)]:
            admin.ok("DELETE", "records/cursor", {"id": cursor})
    finally:
        set_clock(server, now=None, offset_seconds=0)
