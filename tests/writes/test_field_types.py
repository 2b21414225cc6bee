"""Every writable field type written through the gateway, read back through the gateway and
through Kintone's own API; read-only fields refused by name with nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from tests.writes.conftest import call, error, ok


def _options(*keys: str) -> dict:
    return {key: {"label": key, "index": str(i)} for i, key in enumerate(keys)}


SOURCE = {
    "code": {"type": "SINGLE_LINE_TEXT", "code": "code", "label": "Code", "unique": True},
    "city": {"type": "SINGLE_LINE_TEXT", "code": "city", "label": "City"},
}


def fields(source_app: int) -> dict:
    return {
        "text": {"type": "SINGLE_LINE_TEXT", "code": "text", "label": "Text"},
        "memo": {"type": "MULTI_LINE_TEXT", "code": "memo", "label": "Memo"},
        "rich": {"type": "RICH_TEXT", "code": "rich", "label": "Rich"},
        "link": {"type": "LINK", "code": "link", "label": "Link", "protocol": "WEB"},
        "amount": {"type": "NUMBER", "code": "amount", "label": "Amount"},
        "day": {"type": "DATE", "code": "day", "label": "Day"},
        "at": {"type": "TIME", "code": "at", "label": "At"},
        "when": {"type": "DATETIME", "code": "when", "label": "When"},
        "tags": {"type": "CHECK_BOX", "code": "tags", "label": "Tags",
                 "options": _options("a", "b", "c")},
        "size": {"type": "RADIO_BUTTON", "code": "size", "label": "Size",
                 "options": _options("S", "M", "L"), "defaultValue": "S"},
        "stage": {"type": "DROP_DOWN", "code": "stage", "label": "Stage",
                  "options": _options("Lead", "Won")},
        "langs": {"type": "MULTI_SELECT", "code": "langs", "label": "Langs",
                  "options": _options("en", "ja")},
        "owner": {"type": "USER_SELECT", "code": "owner", "label": "Owner"},
        "org": {"type": "ORGANIZATION_SELECT", "code": "org", "label": "Org"},
        "team": {"type": "GROUP_SELECT", "code": "team", "label": "Team"},
        "files": {"type": "FILE", "code": "files", "label": "Files"},
        "double": {"type": "CALC", "code": "double", "label": "Double",
                   "expression": "amount * 2", "format": "NUMBER"},
        "customer": {"type": "SINGLE_LINE_TEXT", "code": "customer", "label": "Customer",
                     "lookup": {"relatedApp": {"app": str(source_app)},
                                "relatedKeyField": "code",
                                "fieldMappings": [{"field": "city", "relatedField": "city"}],
                                "lookupPickerFields": [], "filterCond": "", "sort": ""}},
        "city": {"type": "SINGLE_LINE_TEXT", "code": "city", "label": "City"},
        "lines": {"type": "SUBTABLE", "code": "lines", "label": "Lines", "fields": {
            "item": {"type": "SINGLE_LINE_TEXT", "code": "item", "label": "Item"},
            "qty": {"type": "NUMBER", "code": "qty", "label": "Qty"},
            "due": {"type": "DATE", "code": "due", "label": "Due"},
        }},
    }


@pytest.fixture(scope="module")
def app(make_app) -> int:
    source, _ = make_app(SOURCE, [{"code": {"value": "C-1"}, "city": {"value": "Osaka"}}])
    app, _ = make_app(fields(source), name="All types")
    return app


@pytest.fixture(scope="module")
def gw(start_writer, app):
    return start_writer([app])


SET = "AllTypes"


@pytest.fixture(scope="module")
def file_key(admin) -> str:
    uploaded = requests.post(admin.url("file"), headers=admin.headers, timeout=30,
                             files={"file": ("a.txt", b"hello", "text/plain")})
    assert uploaded.status_code == 200, uploaded.text
    return uploaded.json()["fileKey"]


ENTITY = {
    "text": "Hello", "memo": "line 1\nline 2", "rich": "<b>bold</b>",
    "link": "https://example.com/x", "amount": Decimal("1234.5678"), "day": "2024-05-01",
    "at": "09:30", "when": "2024-05-01T09:30:00+09:00", "tags": ["a", "c"], "size": "M",
    "stage": "Won", "langs": ["ja"], "owner": [{"Code": "alice"}], "org": [{"Code": "sales"}],
    "team": [{"Code": "admins"}], "customer": "C-1",
    "lines": [{"item": "pen", "qty": 2, "due": "2024-06-01"},
              {"item": "ink", "qty": Decimal("0.5")}],
}


def _number(value) -> Decimal:
    return Decimal(str(value))


def test_every_writable_type_round_trips(gw, app, admin, file_key):
    body = {**ENTITY, "files": [{"FileKey": file_key}]}
    created = ok(call(gw, "POST", SET, body), 201)
    record_id = created["Id"]
    read = ok(call(gw, "GET", f"{SET}({record_id})"))
    for entity in (created, read):
        for name in ("text", "memo", "rich", "link", "day", "tags", "size", "stage", "langs",
                     "customer"):
            assert entity[name] == ENTITY[name], name
        assert _number(entity["amount"]) == Decimal("1234.5678")
        assert entity["at"] == "09:30:00"
        assert entity["when"] == "2024-05-01T00:30:00Z"
        assert [u["Code"] for u in entity["owner"]] == ["alice"]
        assert entity["org"][0]["Code"] == "sales" and entity["team"][0]["Code"] == "admins"
        assert [(f["Name"], f["Size"]) for f in entity["files"]] == [("a.txt", 5)]
        assert _number(entity["double"]) == Decimal("2469.1356")  # computed by Kintone
        assert entity["city"] == "Osaka"  # copied by the lookup
        rows = [(r["item"], _number(r["qty"]), r["due"]) for r in entity["lines"]]
        assert rows == [("pen", 2, "2024-06-01"), ("ink", Decimal("0.5"), None)]
    record = admin.ok("GET", "record", params={"app": app, "id": record_id})["record"]
    assert record["amount"]["value"] == "1234.5678"
    assert record["when"]["value"] == "2024-05-01T00:30:00Z"
    assert record["at"]["value"] == "09:30"
    assert record["tags"]["value"] == ["a", "c"]
    assert record["owner"]["value"][0]["code"] == "alice"
    assert record["lines"]["value"][1]["value"]["qty"]["value"] == "0.5"
    assert record["files"]["value"][0]["name"] == "a.txt"


def test_seconds_kintone_drops_are_reported(gw):
    response = call(gw, "POST", SET, {"when": "2024-05-01T09:30:45.5+09:00", "at": "10:15:30",
                                      "lines": [{"item": "x"}]})
    created = ok(response, 201)
    assert response.headers["Kintone-Truncated"] == "when, at"
    assert created["when"] == "2024-05-01T00:30:00Z" and created["at"] == "10:15:00"


def test_null_empties_and_bare_codes_are_accepted(gw):
    created = ok(call(gw, "POST", SET, {"text": "x", "owner": ["bob"], "amount": "42"}), 201)
    assert created["owner"][0]["Code"] == "bob" and _number(created["amount"]) == 42
    response = call(gw, "PATCH", f"{SET}({created['Id']})", {"text": None, "owner": None,
                                                             "amount": None},
                    headers={"Prefer": "return=representation"})
    updated = ok(response)
    assert (updated["text"], updated["owner"], updated["amount"]) == (None, [], None)
    assert response.headers["Preference-Applied"] == "return=representation"


@pytest.mark.parametrize(("body", "target"), [
    ({"Id": 5}, "Id"),
    ({"Revision": 3}, "Revision"),
    ({"Record_number": "9"}, "Record_number"),
    ({"Created_by": {"Code": "alice"}}, "Created_by"),
    ({"double": 4}, "double"),
    ({"city": "Kyoto"}, "city"),
])
def test_read_only_properties_are_refused_by_name(gw, app, admin, body, target):
    before = _count(admin, app)
    failure = error(call(gw, "POST", SET, {"text": "never", **body}), 400)
    assert failure["target"] == target and "read-only" in failure["message"]
    assert _count(admin, app) == before


@pytest.mark.parametrize(("body", "target"), [
    ({"nope": 1}, "nope"),
    ({"amount": "12abc"}, "amount"),
    ({"amount": True}, "amount"),
    ({"when": "2024-05-01T09:30:00"}, "when"),
    ({"day": "May 1st"}, "day"),
    ({"tags": "a"}, "tags"),
    ({"owner": [{"Name": "x"}]}, "owner"),
    ({"lines": [{"qty": "many"}]}, "lines[0]/qty"),
    ({"lines": [{"RowId": "x"}]}, "lines[0]/RowId"),
])
def test_values_of_the_wrong_shape_are_refused(gw, app, admin, body, target):
    before = _count(admin, app)
    failure = error(call(gw, "POST", SET, body), 400)
    assert failure["target"] == target
    assert _count(admin, app) == before


def test_kintone_validation_errors_name_the_property(gw, app, admin):
    before = _count(admin, app)
    failure = error(call(gw, "POST", SET, {"stage": "Lost", "customer": "C-1",
                                           "lines": [{"item": "x"}]}), 400)
    assert failure["code"] == "ValidationFailed"
    targets = {d.get("target") for d in failure["details"]}
    assert "stage" in targets
    assert _count(admin, app) == before


def _count(admin, app: int) -> int:
    return int(admin.ok("GET", "records", params={"app": app, "totalCount": "true",
                                                  "query": "limit 1"})["totalCount"])

