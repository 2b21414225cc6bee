"""Create, merge, replace and delete by id; ETags and If-Match; subtable row edits."""

from __future__ import annotations

import pytest

from tests.writes.conftest import call, error, ok

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title", "required": True,
              "maxLength": "10"},
    "note": {"type": "SINGLE_LINE_TEXT", "code": "note", "label": "Note"},
    "price": {"type": "NUMBER", "code": "price", "label": "Price"},
    "items": {"type": "SUBTABLE", "code": "items", "label": "Items", "fields": {
        "name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name"},
        "qty": {"type": "NUMBER", "code": "qty", "label": "Qty"},
    }},
}
SET = "Orders"


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, name="Orders")[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    return start_writer([app])


def create(gw, **body) -> dict:
    return ok(call(gw, "POST", SET, {"title": "t", **body}), 201)


def kintone_record(admin, app: int, record_id: int) -> dict:
    return admin.ok("GET", "record", params={"app": app, "id": record_id})["record"]


def test_create_answers_201_with_location_and_etag(gw):
    response = call(gw, "POST", SET, {"title": "first", "price": 10})
    created = ok(response, 201)
    assert response.headers["Location"] == gw.url(f"{SET}({created['Id']})")
    assert response.headers["ETag"] == 'W/"1"' == created["@odata.etag"]
    assert created["@odata.context"].endswith(f"$metadata#{SET}/$entity")


def test_create_with_return_minimal_answers_204(gw, admin, app):
    response = call(gw, "POST", SET, {"title": "minimal"},
                    headers={"Prefer": "return=minimal"})
    assert response.status_code == 204 and not response.content
    assert response.headers["Preference-Applied"] == "return=minimal"
    record_id = int(response.headers["Location"].rsplit("(", 1)[1].rstrip(")"))
    assert kintone_record(admin, app, record_id)["title"]["value"] == "minimal"


def test_patch_merges_and_put_replaces(gw, admin, app):
    created = create(gw, note="keep me", price=5)
    url = f"{SET}({created['Id']})"
    response = call(gw, "PATCH", url, {"price": 6})
    assert response.status_code == 204 and response.headers["ETag"] == 'W/"2"'
    record = kintone_record(admin, app, created["Id"])
    assert (record["note"]["value"], record["price"]["value"]) == ("keep me", "6")
    assert call(gw, "PUT", url, {"title": "replaced"}).status_code == 204
    record = kintone_record(admin, app, created["Id"])
    assert (record["title"]["value"], record["note"]["value"]) == ("replaced", "")
    assert record["price"]["value"] == ""


def test_delete(gw, admin, app):
    created = create(gw)
    assert call(gw, "DELETE", f"{SET}({created['Id']})").status_code == 204
    assert error(call(gw, "GET", f"{SET}({created['Id']})"), 404)
    assert error(call(gw, "DELETE", f"{SET}({created['Id']})"), 404)["code"] == "NotFound"


def test_if_match_guards_updates_and_deletes(gw, admin, app):
    created = create(gw, note="v1")
    url = f"{SET}({created['Id']})"
    stale = created["@odata.etag"]
    assert call(gw, "PATCH", url, {"note": "v2"}, headers={"If-Match": stale}
                ).status_code == 204
    failure = error(call(gw, "PATCH", url, {"note": "v3"}, headers={"If-Match": stale}), 412)
    assert failure["code"] == "PreconditionFailed"
    assert error(call(gw, "DELETE", url, headers={"If-Match": stale}), 412)
    assert error(call(gw, "PATCH", url, {"note": "v3"}, headers={"If-Match": '"junk"'}), 412)
    assert kintone_record(admin, app, created["Id"])["note"]["value"] == "v2"
    current = ok(call(gw, "GET", url))["@odata.etag"]
    assert call(gw, "PATCH", url, {"note": "v3"}, headers={"If-Match": "*"}).status_code == 204
    assert call(gw, "DELETE", url, headers={"If-Match": 'W/"3"'}).status_code == 204
    assert current == 'W/"2"'


def test_subtable_rows_kept_by_row_id_survive(gw, admin, app):
    created = create(gw, items=[{"name": "a", "qty": 1}, {"name": "b", "qty": 2},
                                {"name": "c", "qty": 3}])
    a, b, c = (row["RowId"] for row in created["items"])
    url = f"{SET}({created['Id']})"
    # Keep a untouched, change b's qty only, drop c, add d.
    body = {"items": [{"RowId": a}, {"RowId": b, "qty": 20}, {"name": "d", "qty": 4}]}
    updated = ok(call(gw, "PATCH", url, body, headers={"Prefer": "return=representation"}))
    rows = [(row["RowId"], row["name"], int(row["qty"])) for row in updated["items"]]
    assert rows[:2] == [(a, "a", 1), (b, "b", 20)]
    assert rows[2][1:] == ("d", 4) and rows[2][0] not in (a, b, c)
    kintone_rows = kintone_record(admin, app, created["Id"])["items"]["value"]
    assert [int(row["id"]) for row in kintone_rows][:2] == [a, b]
    assert call(gw, "PATCH", url, {"title": "untouched"}).status_code == 204
    assert len(kintone_record(admin, app, created["Id"])["items"]["value"]) == 3
    assert call(gw, "PATCH", url, {"items": []}).status_code == 204
    assert kintone_record(admin, app, created["Id"])["items"]["value"] == []


def test_kintone_validation_names_properties(gw, admin, app):
    created = create(gw)
    failure = error(call(gw, "PATCH", f"{SET}({created['Id']})",
                         {"title": "far too long a title", "price": "1e400000"}), 400)
    details = {d["target"]: d["message"] for d in failure["details"] if "target" in d}
    assert "title" in details and "title" not in failure["message"].split(":")[0]
    assert kintone_record(admin, app, created["Id"])["title"]["value"] == "t"
    failure = error(call(gw, "POST", SET, {"note": "no title"}), 400)
    assert any(d.get("target") == "title" and "Required" in d["message"]
               for d in failure["details"])


def test_writes_to_what_cannot_be_written(gw):
    assert error(call(gw, "PATCH", "Apps(1)", {"Name": "x"}), 405)
    assert error(call(gw, "POST", f"{SET}_items", {"name": "x"}), 405)
    assert error(call(gw, "POST", "Nope", {}), 404)
    assert error(call(gw, "POST", f"{SET}(1)", {}), 405)
    assert error(call(gw, "POST", SET, [1, 2]), 400)
    response = call(gw, "POST", SET, headers={"Content-Type": "application/json"}, data=b"{")
    assert error(response, 400)["message"] == "The body is not valid JSON."
