"""bulkRequest over HTTP: ordered sub-requests, one transaction, Kintone's error body."""

from __future__ import annotations

import pytest
import requests

from tests.kintone_http import Kintone, error_of

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title", "required": True},
    "n": {"type": "NUMBER", "code": "n", "label": "N"},
}


def sub(method: str, api: str, payload: dict, guest: int | None = None) -> dict:
    prefix = f"/k/guest/{guest}/v1" if guest else "/k/v1"
    return {"method": method, "api": f"{prefix}/{api}.json", "payload": payload}


def titles(client: Kintone, app: int) -> list[str]:
    records = client.ok("GET", "records", params={"app": app, "query": "order by $id asc"})
    return [r["title"]["value"] for r in records["records"]]


def token(server, app: int, rights: list[str]) -> str:
    response = requests.post(f"{server.url}/__sandbox/apps/{app}/tokens", json={"rights": rights},
                             timeout=10)
    return response.json()["token"]


@pytest.fixture
def app(admin) -> int:
    app = admin.make_app(FIELDS)
    admin.ok("POST", "records", {"app": app, "records": [
        {"title": {"value": "one"}}, {"title": {"value": "two"}}, {"title": {"value": "three"}}]})
    return app


def test_runs_every_allowed_write_in_order_and_answers_each_result(admin, app):
    result = admin.ok("POST", "bulkRequest", {"requests": [
        sub("POST", "record", {"app": app, "record": {"title": {"value": "four"}}}),
        sub("PUT", "record", {"app": str(app), "id": "4", "revision": "1",
                              "record": {"title": {"value": "FOUR"}}}),
        sub("POST", "records", {"app": app, "records": [{"title": {"value": "five"}}]}),
        sub("PUT", "records", {"app": app, "records": [
            {"id": 1, "record": {"n": {"value": "7"}}}]}),
        sub("DELETE", "records", {"app": app, "ids": [2]}),
    ]})
    assert result == {"results": [
        {"id": "4", "revision": "1"},
        {"revision": "2"},
        {"ids": ["5"], "revisions": ["1"]},
        {"records": [{"id": "1", "revision": "2"}]},
        {},
    ]}
    assert titles(admin, app) == ["one", "three", "FOUR", "five"]


def test_a_failing_request_rolls_everything_back_and_reports_at_its_index(admin, app):
    response = admin.post("bulkRequest", {"requests": [
        sub("POST", "record", {"app": app, "record": {"title": {"value": "new"}}}),
        sub("PUT", "record", {"app": app, "id": 1, "revision": 5,
                              "record": {"title": {"value": "stale"}}}),
        sub("DELETE", "records", {"app": app, "ids": [3]}),
    ]})
    assert response.status_code == 409
    assert response.headers["X-Cybozu-Error"] == "GAIA_CO02"
    results = response.json()["results"]
    assert results[0] == {} and results[2] == {}
    assert results[1]["code"] == "GAIA_CO02"
    assert set(results[1]) == {"code", "id", "message"}
    assert titles(admin, app) == ["one", "two", "three"]


def test_validation_errors_keep_their_errors_map_and_status(admin, app):
    response = admin.post("bulkRequest", {"requests": [
        sub("PUT", "record", {"app": app, "id": 1, "record": {"title": {"value": "renamed"}}}),
        sub("POST", "records", {"app": app, "records": [{"n": {"value": "1"}}]}),
    ]})
    assert response.status_code == 400 and response.headers["X-Cybozu-Error"] == "CB_VA01"
    failed = response.json()["results"][1]
    assert failed["code"] == "CB_VA01"
    assert "records[0].title.value" in failed["errors"]
    assert titles(admin, app) == ["one", "two", "three"]


@pytest.mark.parametrize("failing", [("DELETE", "records", {"ids": [999]}),
                                     ("PUT", "record", {"id": 999, "record": {}})])
def test_not_found_errors_keep_their_404(admin, app, failing):
    method, api, payload = failing
    response = admin.post("bulkRequest", {"requests": [sub(method, api, {"app": app, **payload})]})
    assert response.status_code == 404
    assert response.json()["results"][0]["code"] == "GAIA_RE01"


@pytest.mark.parametrize("count", [0, 21])
def test_between_one_and_twenty_requests(admin, app, count):
    requests_ = [sub("POST", "record", {"app": app, "record": {"title": {"value": "x"}}})] * count
    response = admin.post("bulkRequest", {"requests": requests_})
    assert error_of(response) == (400, "CB_VA01")
    assert "requests" in response.json()["errors"]
    assert len(titles(admin, app)) == 3


def test_twenty_requests_are_fine(admin, app):
    requests_ = [sub("POST", "record", {"app": app, "record": {"title": {"value": f"r{i}"}}})
                 for i in range(20)]
    assert len(admin.ok("POST", "bulkRequest", {"requests": requests_})["results"]) == 20


@pytest.mark.parametrize(
    ("request_", "key"),
    [
        ({"method": "GET", "api": "/k/v1/record.json", "payload": {}}, "requests[1].method"),
        ({"method": "POST", "api": "/k/v1/record/comment.json", "payload": {}}, "requests[1].api"),
        ({"method": "POST", "api": "/k/v1/bulkRequest.json", "payload": {}}, "requests[1].api"),
        ({"method": "POST", "api": "/k/v1/Record.json", "payload": {}}, "requests[1].api"),
        ({"method": "POST", "api": "/k/v1/record", "payload": {}}, "requests[1].api"),
        ({"method": "POST", "api": "/k/guest/1/v1/record.json", "payload": {}}, "requests[1].api"),
        ({"method": "POST", "api": "/k/v1/record.json"}, "requests[1].payload"),
        ({"api": "/k/v1/record.json", "payload": {}}, "requests[1].method"),
    ],
)
def test_malformed_or_forbidden_sub_requests_are_refused_before_anything_runs(admin, app,
                                                                            request_, key):
    first = sub("POST", "record", {"app": app, "record": {"title": {"value": "x"}}})
    response = admin.post("bulkRequest", {"requests": [first, request_]})
    assert error_of(response) == (400, "CB_VA01")
    assert key in response.json()["errors"]
    assert len(titles(admin, app)) == 3


def test_requests_must_be_a_list_of_objects(admin, app):
    assert error_of(admin.post("bulkRequest", {"requests": ["x"]})) == (400, "CB_IJ01")
    assert error_of(admin.post("bulkRequest", {"other": 1})) == (400, "CB_VA01")


def test_api_tokens_of_several_apps_cover_their_own_sub_requests(server, admin, app):
    other = admin.make_app(FIELDS)
    both = Kintone.with_tokens(server.url, token(server, app, ["add", "edit"]),
                               token(server, other, ["add"]))
    result = both.ok("POST", "bulkRequest", {"requests": [
        sub("POST", "record", {"app": app, "record": {"title": {"value": "a"}}}),
        sub("POST", "record", {"app": other, "record": {"title": {"value": "b"}}}),
    ]})
    assert result["results"] == [{"id": "4", "revision": "1"}, {"id": "1", "revision": "1"}]
    assert titles(admin, app)[-1] == "a"
    assert titles(admin, other) == ["b"]
    created = admin.ok("GET", "record", params={"app": other, "id": 1})["record"]
    assert created["Created_by"]["value"] == {"code": "Administrator", "name": "Administrator"}

    response = both.post("bulkRequest", {"requests": [
        sub("POST", "record", {"app": app, "record": {"title": {"value": "c"}}}),
        sub("PUT", "record", {"app": other, "id": 1, "record": {"title": {"value": "no"}}}),
    ]})
    assert response.status_code == 403
    assert [r.get("code") for r in response.json()["results"]] == [None, "GAIA_NO01"]
    assert titles(admin, app)[-1] == "a"


def test_an_unknown_app_fails_the_whole_bulk_with_404(admin, app):
    response = admin.post("bulkRequest", {"requests": [
        sub("POST", "record", {"app": app, "record": {"title": {"value": "x"}}}),
        sub("POST", "record", {"app": 99999, "record": {}}),
    ]})
    assert response.status_code == 404
    assert response.json()["results"][1]["code"] == "GAIA_AP01"
    assert len(titles(admin, app)) == 3


def test_guest_space_bulks_use_guest_paths_throughout(server, admin):
    space = requests.post(f"{server.url}/__sandbox/spaces", timeout=10,
                          json={"name": "Bulk guests", "isGuest": True}).json()["id"]
    app = requests.post(f"{server.url}/__sandbox/apps", timeout=10,
                        json={"name": "Guest bulk", "space": space, "fields": FIELDS}).json()["app"]
    guest = Kintone(server.url, admin.headers, guest_space=space)
    record = {"app": app, "record": {"title": {"value": "g"}}}
    result = guest.ok("POST", "bulkRequest", {"requests": [sub("POST", "record", record, space)]})
    assert result == {"results": [{"id": "1", "revision": "1"}]}
    mixed = guest.post("bulkRequest", {"requests": [sub("POST", "record", record)]})
    assert error_of(mixed) == (400, "CB_VA01") and "requests[0].api" in mixed.json()["errors"]
    other = guest.post("bulkRequest", {"requests": [sub("POST", "record", record, space + 1)]})
    assert error_of(other) == (400, "CB_VA01")
    outside = admin.post("bulkRequest", {"requests": [sub("POST", "record", record)]})
    assert outside.status_code == 400
    assert outside.json()["results"][0]["code"] == "GAIA_IL23"
