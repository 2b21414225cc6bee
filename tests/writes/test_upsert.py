"""Upsert by an alternate key (a unique text or number field)."""

from __future__ import annotations

import pytest

from tests.writes.conftest import call, error, ok

FIELDS = {
    "CustomerCode": {"type": "SINGLE_LINE_TEXT", "code": "CustomerCode", "label": "Code",
                     "unique": True},
    "no": {"type": "NUMBER", "code": "no", "label": "No", "unique": True},
    "name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name"},
}
SET = "Customers"


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, name="Customers")[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    return start_writer([app])


def find(admin, app: int, query: str) -> list[dict]:
    return admin.ok("GET", "records", params={"app": app, "query": query})["records"]


def test_upsert_inserts_then_updates(gw, admin, app):
    url = f"{SET}(CustomerCode='C-1')"
    response = call(gw, "PATCH", url, {"name": "Acme"})
    created = ok(response, 201)
    assert created["CustomerCode"] == "C-1" and created["name"] == "Acme"
    assert response.headers["Location"] == gw.url(f"{SET}({created['Id']})")
    response = call(gw, "PATCH", url, {"name": "Acme Ltd", "CustomerCode": "C-1"})
    assert response.status_code == 204 and response.headers["ETag"] == 'W/"2"'
    records = find(admin, app, 'CustomerCode = "C-1"')
    assert [r["name"]["value"] for r in records] == ["Acme Ltd"]


def test_upsert_by_a_number_key_and_quotes_in_text_keys(gw, admin, app):
    assert call(gw, "PATCH", f"{SET}(no=42)", {"name": "forty-two"}).status_code == 201
    assert call(gw, "PATCH", f"{SET}(no=42)", {"name": "42"}).status_code == 204
    assert [r["name"]["value"] for r in find(admin, app, "no = 42")] == ["42"]
    url = f"{SET}(CustomerCode='O''Brien/1')"
    assert ok(call(gw, "PATCH", url, {"name": "x"}), 201)["CustomerCode"] == "O'Brien/1"


def test_minimal_and_representation_preferences(gw):
    url = f"{SET}(CustomerCode='C-2')"
    assert call(gw, "PUT", url, {"name": "a"}, headers={"Prefer": "return=minimal"}
                ).status_code == 204
    body = ok(call(gw, "PUT", url, {"name": "b"}, headers={"Prefer": "return=representation"}))
    assert body["name"] == "b"


def test_if_match_star_updates_only_and_if_none_match_star_inserts_only(gw, admin, app):
    missing = f"{SET}(CustomerCode='C-404')"
    assert error(call(gw, "PATCH", missing, {"name": "x"}, headers={"If-Match": "*"}), 404)
    assert find(admin, app, 'CustomerCode = "C-404"') == []
    assert call(gw, "PATCH", missing, {"name": "x"}, headers={"If-None-Match": "*"}
                ).status_code == 201
    assert error(call(gw, "PATCH", missing, {"name": "y"}, headers={"If-None-Match": "*"}), 400)
    assert call(gw, "PATCH", missing, {"name": "z"}, headers={"If-Match": "*"}
                ).status_code == 204


def test_bad_alternate_keys(gw):
    assert "alternate keys: CustomerCode, no" in error(
        call(gw, "PATCH", f"{SET}(name='x')", {}), 400)["message"]
    assert error(call(gw, "PATCH", f"{SET}(no='x')", {}), 400)
    assert error(call(gw, "PATCH", f"{SET}(CustomerCode=5)", {}), 400)
    assert error(call(gw, "PATCH", f"{SET}(CustomerCode='C-1')", {"CustomerCode": "C-9"}), 400)
    assert error(call(gw, "DELETE", f"{SET}(CustomerCode='C-1')"), 405)


def test_an_alternate_key_reads_its_record(gw, admin, app):
    created = ok(call(gw, "PATCH", f"{SET}(CustomerCode='K''1 \"x\"')", {"name": "Keyed"}), 201)
    by_key = call(gw, "GET", f"{SET}(CustomerCode='K''1 \"x\"')")
    entity = ok(by_key)
    assert entity["Id"] == created["Id"] and entity["name"] == "Keyed"
    assert by_key.headers["ETag"] == f'W/"{entity["Revision"]}"'
    assert ok(call(gw, "GET", f"{SET}(CustomerCode='K''1 \"x\"')?$select=name")) == {
        "@odata.context": entity["@odata.context"].replace("/$entity", "(name)/$entity"),
        "@odata.etag": entity["@odata.etag"], "name": "Keyed"}
    assert ok(call(gw, "GET", f"{SET}(CustomerCode='K''1 \"x\"')/name"))["value"] == "Keyed"
    ok(call(gw, "PATCH", f"{SET}(no=7.50)", {"name": "seven and a half"}), 201)
    assert ok(call(gw, "GET", f"{SET}(no=7.5)"))["name"] == "seven and a half"
    admin.ok("POST", "record/comment", {"app": app, "record": created["Id"],
                                        "comment": {"text": "on K1"}})
    comments = ok(call(gw, "GET", f"{SET}(CustomerCode='K''1 \"x\"')/Comments"))["value"]
    assert [(c["RecordId"], c["Text"].strip()) for c in comments] == [(created["Id"], "on K1")]
    assert call(gw, "GET", f"{SET}(no=7.5)/Comments/$count").text == "0"
    assert error(call(gw, "GET", f"{SET}(no=8)/Comments"), 404)
    # Unique values: one record each, never another with a similar value.
    assert error(call(gw, "GET", f"{SET}(CustomerCode='K''1')"), 404)
    assert error(call(gw, "GET", f"{SET}(no=7)"), 404)


def test_an_alternate_key_takes_reads_and_upserts_only(gw):
    url = f"{SET}(CustomerCode='C-1')"
    allow = "GET, PUT, PATCH, OPTIONS"
    assert call(gw, "OPTIONS", url).headers["Allow"] == allow
    assert error(call(gw, "DELETE", url), 405) and call(gw, "DELETE", url).headers[
        "Allow"] == allow
    assert "alternate keys: CustomerCode, no" in error(
        call(gw, "GET", f"{SET}(name='x')"), 400)["message"]
    assert error(call(gw, "GET", f"{SET}(no='x')"), 400)
