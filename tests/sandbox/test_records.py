"""Records API over HTTP: shapes, defaults, limits, revisions, merge semantics, upsert, delete."""

from __future__ import annotations

import json

import pytest
import requests

from tests.kintone_http import Kintone, error_of

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title", "required": True},
    "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku", "label": "SKU", "unique": True},
    "price": {"type": "NUMBER", "code": "price", "label": "Price"},
    "tags": {
        "type": "CHECK_BOX", "code": "tags", "label": "Tags",
        "options": {"new": {"label": "new", "index": "0"}, "sale": {"label": "sale", "index": "1"}},
    },
    "items": {
        "type": "SUBTABLE", "code": "items", "label": "Items",
        "fields": {
            "item": {"type": "SINGLE_LINE_TEXT", "code": "item", "label": "Item"},
            "qty": {"type": "NUMBER", "code": "qty", "label": "Qty"},
        },
    },
}


@pytest.fixture(scope="module")
def app(admin: Kintone) -> int:
    return admin.make_app(FIELDS, name="Records API")


def add(admin: Kintone, app: int, **values) -> str:
    record = {code: {"value": value} for code, value in values.items()}
    return admin.ok("POST", "record", {"app": app, "record": record})["id"]


def test_add_and_get_record_shape(admin, app):
    created = admin.ok("POST", "record", {"app": app, "record": {
        "title": {"value": "Widget"}, "price": {"value": "1200"}, "tags": {"value": ["new"]},
        "items": {"value": [{"value": {"item": {"value": "A-1"}, "qty": {"value": "2"}}}]},
    }})
    assert created["revision"] == "1" and created["id"].isdigit()
    record = admin.ok("GET", "record", params={"app": app, "id": created["id"]})["record"]
    assert record["$id"] == {"type": "__ID__", "value": created["id"]}
    assert record["$revision"] == {"type": "__REVISION__", "value": "1"}
    assert record["Record_number"] == {"type": "RECORD_NUMBER", "value": created["id"]}
    assert record["title"] == {"type": "SINGLE_LINE_TEXT", "value": "Widget"}
    assert record["price"] == {"type": "NUMBER", "value": "1200"}
    assert record["tags"] == {"type": "CHECK_BOX", "value": ["new"]}
    assert record["Created_by"]["value"]["code"] == "admin"
    assert record["Created_datetime"]["value"].endswith(":00Z")
    row = record["items"]["value"][0]
    assert row["id"].isdigit()
    assert row["value"]["qty"] == {"type": "NUMBER", "value": "2"}
    assert "Status" not in record  # process management is off


def test_get_unknown_record_and_app(admin, app):
    assert error_of(admin.get("record", {"app": app, "id": 999999})) == (404, "GAIA_RE01")
    assert error_of(admin.get("record", {"app": 999999, "id": 1})) == (404, "GAIA_AP01")
    response = admin.get("record", {"app": app})
    assert error_of(response) == (400, "CB_VA01")
    assert "id" in response.json()["errors"]


def test_records_default_order_fields_and_total_count(admin, app):
    ids = [add(admin, app, title=f"order-{i}") for i in range(3)]
    body = admin.ok("GET", "records", params={
        "app": app, "query": 'title like "order"', "fields[0]": "title", "fields[1]": "$id",
    })
    got = [r["$id"]["value"] for r in body["records"]]
    assert got == sorted(ids, key=int, reverse=True)  # $id desc by default
    assert body["totalCount"] is None
    assert set(body["records"][0]) == {"title", "$id"}
    counted = admin.ok("GET", "records", params={
        "app": app, "query": 'title like "order" limit 1', "totalCount": "true",
    })
    assert counted["totalCount"] == "3" and len(counted["records"]) == 1


def test_records_limits(admin, app):
    assert error_of(admin.get("records", {"app": app, "query": "limit 501"})) == (400, "GAIA_QU01")
    assert error_of(admin.get("records", {"app": app, "query": "offset 10001"})) == (
        400, "GAIA_QU02")
    assert admin.get("records", {"app": app, "query": "limit 500 offset 10000"}).status_code == 200


def test_add_records_is_all_or_nothing(admin, app):
    before = admin.ok("GET", "records", params={"app": app, "totalCount": "true"})["totalCount"]
    response = admin.post("records", {"app": app, "records": [
        {"title": {"value": "fine"}}, {"price": {"value": "1"}},
    ]})
    assert error_of(response) == (400, "CB_VA01")
    assert "records[1].title.value" in response.json()["errors"]
    after = admin.ok("GET", "records", params={"app": app, "totalCount": "true"})["totalCount"]
    assert after == before


def test_add_records_limit_of_100(admin, app):
    response = admin.post("records", {"app": app, "records": [{"title": {"value": "x"}}] * 101})
    assert error_of(response) == (400, "CB_VA01")
    assert response.json()["errors"]["records"]["messages"] == [
        "A maximum of 100 records can be added at one time."]
    ok = admin.ok("POST", "records", {"app": app, "records": [{"title": {"value": "x"}}] * 100})
    assert len(ok["ids"]) == 100 and set(ok["revisions"]) == {"1"}


def test_update_merges_and_checks_revision(admin, app):
    rec = add(admin, app, title="merge", price="5")
    assert admin.ok("PUT", "record", {"app": app, "id": rec, "record": {
        "price": {"value": "6"}}})["revision"] == "2"
    record = admin.ok("GET", "record", params={"app": app, "id": rec})["record"]
    assert record["title"]["value"] == "merge" and record["price"]["value"] == "6"
    stale = admin.put("record", {"app": app, "id": rec, "revision": 1,
                                 "record": {"price": {"value": "7"}}})
    assert error_of(stale) == (409, "GAIA_CO02")
    assert admin.ok("PUT", "record", {"app": app, "id": rec, "revision": -1,
                                      "record": {"price": {"value": "8"}}})["revision"] == "3"


def test_update_system_field_is_refused(admin, app):
    rec = add(admin, app, title="sys")
    response = admin.put("record", {"app": app, "id": rec,
                                    "record": {"Record_number": {"value": "9"}}})
    assert error_of(response) == (400, "GAIA_UN10")


def test_subtable_rows_merge_by_id(admin, app):
    rec = admin.ok("POST", "record", {"app": app, "record": {"title": {"value": "rows"}, "items": {
        "value": [{"value": {"item": {"value": "a"}, "qty": {"value": "1"}}},
                  {"value": {"item": {"value": "b"}, "qty": {"value": "2"}}}]}}})["id"]
    rows = admin.ok("GET", "record", params={"app": app, "id": rec})["record"]["items"]["value"]
    first = rows[0]["id"]
    admin.ok("PUT", "record", {"app": app, "id": rec, "record": {"items": {"value": [
        {"id": first, "value": {"qty": {"value": "10"}}},
        {"value": {"item": {"value": "c"}}},
    ]}}})
    rows = admin.ok("GET", "record", params={"app": app, "id": rec})["record"]["items"]["value"]
    assert [r["value"]["item"]["value"] for r in rows] == ["a", "c"]
    assert rows[0]["id"] == first and rows[0]["value"]["qty"]["value"] == "10"
    assert rows[1]["id"] not in (first, "")


def test_update_key_and_upsert(admin, app):
    add(admin, app, title="keyed", sku="SKU-1")
    by_key = admin.ok("PUT", "record", {"app": app, "updateKey": {"field": "sku", "value": "SKU-1"},
                                        "record": {"price": {"value": "99"}}})
    assert by_key["revision"] == "2"
    missing = admin.put("record", {"app": app, "updateKey": {"field": "sku", "value": "nope"},
                                   "record": {"price": {"value": "1"}}})
    assert error_of(missing)[1] == "GAIA_RE20"
    not_unique = admin.put("record", {"app": app, "updateKey": {"field": "title", "value": "x"},
                                      "record": {}})
    assert error_of(not_unique) == (400, "GAIA_IQ27")
    upserted = admin.ok("PUT", "records", {"app": app, "upsert": True, "records": [
        {"updateKey": {"field": "sku", "value": "SKU-1"}, "record": {"price": {"value": "5"}}},
        {"updateKey": {"field": "sku", "value": "SKU-2"},
         "record": {"title": {"value": "new"}}},
    ]})["records"]
    assert [r["operation"] for r in upserted] == ["UPDATE", "INSERT"]
    inserted = admin.ok("GET", "record", params={"app": app, "id": upserted[1]["id"]})["record"]
    assert inserted["sku"]["value"] == "SKU-2" and inserted["$revision"]["value"] == "1"


def test_update_records_is_atomic(admin, app):
    a, b = add(admin, app, title="atomic-a"), add(admin, app, title="atomic-b")
    response = admin.put("records", {"app": app, "records": [
        {"id": a, "record": {"price": {"value": "1"}}},
        {"id": b, "revision": 7, "record": {"price": {"value": "2"}}},
    ]})
    assert error_of(response) == (409, "GAIA_CO02")
    record = admin.ok("GET", "record", params={"app": app, "id": a})["record"]
    assert record["price"]["value"] == "" and record["$revision"]["value"] == "1"
    unknown = admin.put("records", {"app": app, "records": [{"id": 999999, "record": {}}]})
    assert error_of(unknown) == (404, "GAIA_RE01")


def test_delete_records(admin, app):
    a, b = add(admin, app, title="del-a"), add(admin, app, title="del-b")
    assert error_of(admin.delete("records", {"app": app, "ids": [a, 999999]})) == (404, "GAIA_RE01")
    assert admin.get("record", {"app": app, "id": a}).status_code == 200  # nothing was deleted
    empty = admin.delete("records", {"app": app, "ids": []})
    assert error_of(empty) == (400, "CB_VA01")
    assert empty.json()["errors"]["ids"]["messages"] == [  # in this order (Japanese: reversed)
        "Between 1 and 100 records can be deleted at one time.", "Required field."]
    # Query-string form, as the official JavaScript client sends it.
    response = admin.request("DELETE", "records", params={"app": app, "ids[0]": a, "ids[1]": b})
    assert response.status_code == 200 and response.json() == {}
    assert error_of(admin.get("record", {"app": app, "id": b})) == (404, "GAIA_RE01")


def test_record_ids_are_never_reused(admin, app):
    rec = add(admin, app, title="gone")
    admin.ok("DELETE", "records", {"app": app, "ids": [rec]})
    assert int(add(admin, app, title="next")) == int(rec) + 1


def test_numbers_in_responses_are_strings(admin, app):
    body = admin.ok("GET", "records", params={"app": app, "totalCount": "true", "query": "limit 1"})
    assert isinstance(body["totalCount"], str)
    assert isinstance(body["records"][0]["$id"]["value"], str)


def test_authentication_errors(server, app):
    anonymous = Kintone(server.url)
    assert error_of(anonymous.get("records", {"app": app})) == (401, "CB_AU01")
    wrong = Kintone.with_password(server.url, "admin", "wrong")
    assert error_of(wrong.get("records", {"app": app})) == (401, "CB_WA01")
    bad_token = Kintone.with_tokens(server.url, "no-such-token")
    assert error_of(bad_token.get("records", {"app": app})) == (400, "GAIA_IA02")


def test_token_error_texts_are_kintones(server, sandbox, app):
    # Texts from Cybozu's own tests against real Kintone (cli-kintone's feature files).
    bad_token = Kintone.with_tokens(server.url, "no-such-token")
    english = bad_token.get("records", {"app": app}, headers={"Accept-Language": "en"}).json()
    assert english["message"] == (
        "The specified API token does not match the API token generated via an app.")
    japanese = bad_token.get("records", {"app": app}, headers={"Accept-Language": "ja"}).json()
    assert japanese["message"].startswith(
        "指定したAPIトークンは、アプリで生成されたトークンと異なります。"
        "アプリのAPIトークンの設定を確認してください。")
    first = requests.post(f"{server.url}/__sandbox/apps/{app}/tokens", json={}, timeout=30)
    second = requests.post(f"{server.url}/__sandbox/apps/{app}/tokens", json={}, timeout=30)
    twice = Kintone.with_tokens(server.url, first.json()["token"], second.json()["token"])
    duplicate = twice.get("records", {"app": app}, headers={"Accept-Language": "en"})
    assert error_of(duplicate) == (400, "GAIA_DA03")
    assert duplicate.json()["message"] == (
        "You cannot specify a duplicate API token for the same app.")


def test_api_token_rights(server, sandbox, admin, app):
    other = admin.make_app({}, name="Other")
    with sandbox.db.transaction() as conn:
        conn.execute("INSERT INTO api_tokens VALUES ('view-only', ?, ?)",
                     (app, json.dumps({"rights": ["view"]})))
        conn.execute("INSERT INTO api_tokens VALUES ('other-app', ?, ?)",
                     (other, json.dumps({"rights": ["view", "add"]})))
    viewer = Kintone.with_tokens(server.url, "view-only")
    assert viewer.get("records", {"app": app}).status_code == 200
    assert error_of(viewer.post("record", {"app": app, "record": {"title": {"value": "x"}}})) == (
        403, "GAIA_NO01")
    foreign = Kintone.with_tokens(server.url, "other-app")
    assert error_of(foreign.get("records", {"app": app})) == (403, "GAIA_NO01")
    both = Kintone.with_tokens(server.url, "view-only", "other-app")
    assert both.get("records", {"app": app}).status_code == 200
    created = both.ok("POST", "record", {"app": other, "record": {}})
    record = both.ok("GET", "record", params={"app": other, "id": created["id"]})["record"]
    assert record["Created_by"]["value"] == {"code": "Administrator", "name": "Administrator"}


def test_password_wins_over_invalid_token(server, app):
    client = Kintone.with_password(server.url, "admin", "admin-password")
    response = client.get("records", {"app": app}, headers={"X-Cybozu-API-Token": "bogus"})
    assert response.status_code == 200


def test_invalid_json_body(server, admin, app):
    import requests

    response = requests.post(admin.url("record"), data="{not json", headers={
        **admin.headers, "Content-Type": "application/json"}, timeout=10)
    assert error_of(response) == (400, "CB_IJ01")


def test_error_language_follows_the_user_then_accept_language(server, sandbox, app):
    sandbox.directory.add_user("kenji", "kenji-password", "Kenji", language="ja")
    kenji = Kintone.with_password(server.url, "kenji", "kenji-password")
    response = kenji.get("record", {"app": app, "id": 999999}, headers={"Accept-Language": "en"})
    assert response.json()["message"] == "指定したレコード（id: 999999）が見つかりません。"
    english = Kintone.with_password(server.url, "admin", "admin-password")
    response = english.get("record", {"app": app, "id": 999999}, headers={"Accept-Language": "ja"})
    assert "見つかりません" in response.json()["message"]
    response = english.get("record", {"app": app, "id": 999999}, headers={"Accept-Language": "en"})
    assert response.json()["message"] == "The specified record (ID: 999999) is not found."


def test_an_id_beyond_64_bits_is_invalid_input(admin, app):
    response = admin.get("record", {"app": app, "id": "33595306945124173860569088"})
    assert error_of(response) == (400, "CB_VA01")
