"""Every Kintone field type's JSON value, as a client reads it through the gateway."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.model import build_model
from gateway.odata import payload
from gateway.service.entities import record_converter
from tests.gateway.conftest import values


def field(ftype: str, code: str, **settings) -> dict:
    return {"type": ftype, "code": code, "label": code, **settings}


def options(*keys: str) -> dict:
    return {key: {"label": key, "index": str(i)} for i, key in enumerate(keys)}


FIELDS = {f["code"]: f for f in (
    field("SINGLE_LINE_TEXT", "text"),
    field("MULTI_LINE_TEXT", "memo"),
    field("RICH_TEXT", "rich"),
    field("LINK", "site", protocol="WEB"),
    field("NUMBER", "amount"),
    field("CALC", "double", expression="amount * 2", format="NUMBER"),
    field("DATE", "day"),
    field("TIME", "clock"),
    field("DATETIME", "moment"),
    field("DROP_DOWN", "pick", options=options("A", "B")),
    field("RADIO_BUTTON", "radio", options=options("X", "Y"), defaultValue="X"),
    field("CHECK_BOX", "checks", options=options("c1", "c2", "c3")),
    field("MULTI_SELECT", "multi", options=options("m1", "m2")),
    field("USER_SELECT", "users"),
    field("ORGANIZATION_SELECT", "orgs"),
    field("GROUP_SELECT", "groups"),
    field("SUBTABLE", "items", fields={
        "sku": field("SINGLE_LINE_TEXT", "sku"), "qty": field("NUMBER", "qty")}),
)}

FULL = values(
    text="Widget \"1\"", memo="line 1\nline 2", rich="<b>bold</b>", site="https://example.com",
    amount="1234.5", day="2024-05-01", clock="09:30", moment="2024-05-01T03:12:00Z",
    pick="B", radio="Y", checks=["c1", "c3"], multi=["m2"],
    users=[{"code": "alice"}], orgs=[{"code": "sales"}], groups=[{"code": "admins"}],
    items=[{"value": values(sku="A-1", qty="2")}, {"value": values(sku="B-2", qty="0.5")}],
)


@pytest.fixture(scope="module")
def typed(start_gateway, make_app):
    app, _ = make_app(FIELDS, [FULL, {}], code="TYPES")
    return start_gateway([app])


def test_each_field_type_has_its_json_value(typed):
    full = typed.json("TYPES(1)")
    assert full["text"] == 'Widget "1"'
    assert full["memo"] == "line 1\nline 2"
    assert full["rich"] == "<b>bold</b>"
    assert full["site"] == "https://example.com"
    assert full["amount"] == 1234.5 and full["double"] == 2469
    assert full["day"] == "2024-05-01"
    assert full["clock"] == "09:30:00"
    assert full["moment"] == "2024-05-01T03:12:00Z"
    assert (full["pick"], full["radio"]) == ("B", "Y")
    assert full["checks"] == ["c1", "c3"] and full["multi"] == ["m2"]
    assert full["users"] == [{"Code": "alice", "Name": "Alice Ito"}]
    assert full["orgs"] == [{"Code": "sales", "Name": "Sales"}]
    assert full["groups"] == [{"Code": "admins", "Name": "Administrators"}]
    assert [(row["sku"], row["qty"]) for row in full["items"]] == [("A-1", 2), ("B-2", 0.5)]
    assert all(isinstance(row["RowId"], int) for row in full["items"])
    assert full["Id"] == 1 and full["Revision"] == 1 and full["Record_number"] == "TYPES-1"
    assert full["Created_by"] == {"Code": "Administrator", "Name": "Administrator"}
    assert full["Created_datetime"].endswith("Z")


def test_empty_values_are_null_or_empty_collections(typed):
    empty = typed.json("TYPES(2)")
    for name in ("text", "memo", "site", "amount", "day", "clock", "moment", "pick"):
        assert empty[name] is None, name
    assert empty["radio"] == "X"  # its default value
    for name in ("checks", "multi", "users", "orgs", "groups"):
        assert empty[name] == [], name


def test_decimals_keep_every_digit_and_are_strings_when_ieee754_compatible(typed):
    response = typed.get("TYPES(1)", headers={
        "Accept": "application/json;odata.metadata=minimal;IEEE754Compatible=true"})
    assert "IEEE754Compatible=true" in response.headers["Content-Type"]
    body = response.json()
    assert body["amount"] == "1234.5" and body["Id"] == "1"
    plain = typed.get("TYPES(1)", params={"$select": "amount"}).json(parse_float=Decimal)
    assert plain["amount"] == Decimal("1234.5")


def test_collections_write_the_values_reads_by_key_write(typed):
    """Collections pass Kintone's text of numbers, dates and timestamps on as their JSON form;
    a read by key parses them first. The JSON must be the same."""
    page = typed.get("TYPES").json(parse_float=Decimal)["value"]
    by_key = [typed.get(f"TYPES({n})").json(parse_float=Decimal) for n in (1, 2)]
    assert page == [{k: v for k, v in entity.items() if k != "@odata.context"}
                    for entity in by_key]
    assert page[0]["amount"] == Decimal("1234.5") and page[0]["day"] == "2024-05-01"


@pytest.mark.parametrize(("ftype", "fmt", "value"), [
    ("NUMBER", None, "-0.50"), ("NUMBER", None, "0"), ("NUMBER", None, "12345678901234567890.1"),
    ("NUMBER", None, "007"), ("NUMBER", None, "1e3"), ("NUMBER", None, ".5"),
    ("NUMBER", None, ""), ("NUMBER", None, None),
    ("CALC", "NUMBER_DIGIT", "-1234.5"), ("CALC", "DATE", "2024-05-01"),
    ("CALC", "DATETIME", "2024-05-01T03:12:00Z"), ("CALC", "HOUR_MINUTE", "25:01"),
    ("DATE", None, "2024-05-01"), ("DATE", None, ""),
    ("DATETIME", None, "2024-05-01T03:12:00Z"), ("DATETIME", None, "2024-05-01T03:12:00.120Z"),
    ("DATETIME", None, "2024-05-01T12:12:00+09:00"), ("CREATED_TIME", None, "2024-05-01T03:12:00Z"),
    ("TIME", None, "09:30"), ("SINGLE_LINE_TEXT", None, "2024-05-01"),
])
def test_json_ready_values_are_written_like_parsed_ones(ftype, fmt, value):
    props = {"type": ftype, "code": "f", "label": "f", **({"format": fmt} if fmt else {})}
    app = {"appId": "1", "code": "", "name": "T"}
    entity_set = build_model([app], {1: {"f": props}}).entity_set("T")
    record = {"$id": {"type": "__ID__", "value": "1"}, "f": {"type": ftype, "value": value}}
    names = [entity_set.name_for_code("f")]
    shape = payload.entity_shaper(entity_set, select=names)
    written = [payload.dumps(shape(record_converter(entity_set.entity_type, names,
                                                    json_ready=ready)(record)))
               for ready in (False, True)]
    assert written[0] == written[1]


@pytest.mark.parametrize(("condition", "ids"), [
    ("clock eq 09:30", [1]), ("clock eq 09:30:00", [1]), ("clock lt 09:30:00.5", [1]),
    ("clock gt 09:30", []), ("clock ge 9:30", None),
])
def test_time_of_day_literals_may_leave_out_the_seconds(typed, condition, ids):
    """The OData ABNF makes a TimeOfDay's seconds optional; Power Automate users write 09:30."""
    response = typed.get("TYPES", params={"$filter": condition, "$select": "Id"})
    if ids is None:
        assert response.status_code == 400
    else:
        assert [entity["Id"] for entity in response.json()["value"]] == ids


def test_subtable_rows_as_their_own_set(typed):
    body = typed.json("TYPES_items")
    assert [(row["RecordId"], row["sku"], row["qty"]) for row in body["value"]] == [
        (1, "A-1", 2), (1, "B-2", 0.5)]
    row_id = body["value"][1]["RowId"]
    one = typed.json(f"TYPES_items(RecordId=1,RowId={row_id})")
    assert one["sku"] == "B-2"
    assert one["@odata.context"].endswith("$metadata#TYPES_items/$entity")


def test_properties_and_raw_values(typed):
    assert typed.json("TYPES(1)/amount")["value"] == 1234.5
    assert typed.get("TYPES(1)/amount/$value").text == "1234.5"
    assert typed.get("TYPES(1)/moment/$value").text == "2024-05-01T03:12:00Z"
    assert typed.json("TYPES(1)/checks")["value"] == ["c1", "c3"]
    creator = typed.json("TYPES(1)/Created_by")
    assert creator["Code"] == "Administrator"
    assert typed.get("TYPES(2)/text").status_code == 204
    assert typed.get("TYPES(2)/text/$value").status_code == 204
    assert typed.get("TYPES(1)/checks/$value").status_code == 400
