"""The builder on fields.json payloads shaped like spec 14.2, and reading values through it."""

from __future__ import annotations

import logging
import random
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from gateway.model import Aliases, Model, UnknownName, build_model, to_odata
from gateway.model.edm import mentions, parse_datetime


def app(app_id: int, name: str, code: str = "") -> dict:
    return {
        "appId": str(app_id), "code": code, "name": name, "description": "", "spaceId": None,
        "threadId": None, "createdAt": "2023-11-02T01:22:10.000Z",
        "creator": {"code": "alice", "name": "Alice Ito"},
        "modifiedAt": "2024-04-30T09:00:00.000Z",
        "modifier": {"code": "alice", "name": "Alice Ito"},
    }


def field(ftype: str, code: str, label: str | None = None, **props) -> dict:
    return {"type": ftype, "code": code, "label": label or code, "noLabel": False, **props}


def options(*keys: str) -> dict:
    return {key: {"label": key, "index": str(i)} for i, key in enumerate(keys)}


def calc(code: str, fmt: str) -> dict:
    return field("CALC", code, required=False, expression="1", hideExpression=False, format=fmt,
                 displayScale="", unit="", unitPosition="BEFORE")


LOOKUP = {
    "relatedApp": {"app": "7", "code": ""}, "relatedKeyField": "顧客名",
    "fieldMappings": [{"field": "customer_name", "relatedField": "顧客名"}],
    "lookupPickerFields": ["顧客名"], "filterCond": "", "sort": "Record_number desc",
}

QUOTE_FIELDS = {
    "Record_number": field("RECORD_NUMBER", "Record_number", "Record number"),
    "Created_by": field("CREATOR", "Created_by"),
    "Created_datetime": field("CREATED_TIME", "Created_datetime"),
    "Updated_by": field("MODIFIER", "Updated_by"),
    "Updated_datetime": field("UPDATED_TIME", "Updated_datetime"),
    "Status": {"type": "STATUS", "code": "Status", "label": "Status", "enabled": True},
    "Assignee": {"type": "STATUS_ASSIGNEE", "code": "Assignee", "label": "Assignee",
                 "enabled": True},
    "Categories": {"type": "CATEGORY", "code": "Categories", "label": "Categories",
                   "enabled": False},
    "title": field("SINGLE_LINE_TEXT", "title", "Title", required=True, unique=True,
                   defaultValue="", minLength="", maxLength="64", expression="",
                   hideExpression=False),
    "memo": field("MULTI_LINE_TEXT", "memo", required=False, defaultValue=""),
    "body": field("RICH_TEXT", "body", required=False, defaultValue=""),
    "price": field("NUMBER", "price", "Price", required=False, unique=False, defaultValue="",
                   minValue="0", maxValue="", digit=True, displayScale="", unit="JPY",
                   unitPosition="AFTER"),
    "total": calc("total", "NUMBER"),
    "total_digits": calc("total_digits", "NUMBER_DIGIT"),
    "due": calc("due", "DATE"),
    "stamp": calc("stamp", "DATETIME"),
    "alarm": calc("alarm", "TIME"),
    "span": calc("span", "HOUR_MINUTE"),
    "long_span": calc("long_span", "DAY_HOUR_MINUTE"),
    "tags": field("CHECK_BOX", "tags", options=options("new", "sale"), defaultValue=[],
                  align="HORIZONTAL", required=False),
    "priority": field("RADIO_BUTTON", "priority", options=options("high", "low"),
                      defaultValue="low", align="HORIZONTAL", required=False),
    "stage": field("DROP_DOWN", "stage", options=options("Lead", "Won"), defaultValue=""),
    "regions": field("MULTI_SELECT", "regions", options=options("EU", "JP"), defaultValue=[]),
    "attachments": field("FILE", "attachments", thumbnailSize="150", required=False),
    "order_date": field("DATE", "order_date", defaultValue="", defaultNowValue=True),
    "call_time": field("TIME", "call_time", defaultValue="", defaultNowValue=False),
    "closed_at": field("DATETIME", "closed_at", defaultValue="", defaultNowValue=False),
    "site": field("LINK", "site", protocol="WEB", defaultValue="", minLength="", maxLength=""),
    "owner": field("USER_SELECT", "owner", entities=[], defaultValue=[]),
    "dept": field("ORGANIZATION_SELECT", "dept", entities=[], defaultValue=[]),
    "team": field("GROUP_SELECT", "team", entities=[], defaultValue=[]),
    "customer": {"type": "SINGLE_LINE_TEXT", "code": "customer", "label": "Customer",
                 "noLabel": False, "required": False, "lookup": LOOKUP},
    "customer_name": field("SINGLE_LINE_TEXT", "customer_name", expression=""),
    "Id": field("SINGLE_LINE_TEXT", "Id", "External ID"),
    "顧客名": field("SINGLE_LINE_TEXT", "顧客名"),
    "単価・税込": field("NUMBER", "単価・税込"),
    "related": field("REFERENCE_TABLE", "related", referenceTable={"size": "5"}),
    "details": {"type": "GROUP", "code": "details", "label": "Details", "noLabel": False,
                "openGroup": True},
    "items": field("SUBTABLE", "items", "Items", fields={
        "product": {"type": "NUMBER", "code": "product", "label": "Product", "noLabel": False,
                    "required": False, "lookup": {**LOOKUP, "fieldMappings": []}},
        "qty": field("NUMBER", "qty", "Qty", defaultValue="1"),
        "amount": calc("amount", "NUMBER"),
        "品名": field("SINGLE_LINE_TEXT", "品名"),
        "RowId": field("SINGLE_LINE_TEXT", "RowId", "Row ID field"),
        "line_date": field("DATE", "line_date"),
        "line_files": field("FILE", "line_files"),
    }),
}

APPS = [
    app(5, "Quotes", code="SALES"),
    app(3, "support tickets"),
    app(9, "Support Tickets"),
    app(7, "顧客管理"),
    app(11, "Apps"),
    app(12, "not exposed"),
]
SIMPLE = {"title": field("SINGLE_LINE_TEXT", "title")}
CUSTOMERS = {"顧客名": field("SINGLE_LINE_TEXT", "顧客名")}
FIELDS = {5: QUOTE_FIELDS, "3": SIMPLE, 9: SIMPLE, 7: CUSTOMERS, 11: SIMPLE}


@pytest.fixture(scope="module")
def model() -> Model:
    return build_model(APPS, FIELDS)


@pytest.fixture(scope="module")
def quotes(model):
    return model.records_set(5).entity_type


def test_entity_sets(model):
    assert list(model.entity_sets) == [
        "Apps", "Comments", "Fields",
        "SupportTickets", "SALES", "SALES_items", "顧客管理", "SupportTickets_9", "Apps_11",
    ]
    sales = model.entity_set("SALES")
    assert (sales.kind, sales.app_id, sales.app_code, sales.app_name) == (
        "records", 5, "SALES", "Quotes")
    assert model.entity_set("SupportTickets").app_id == 3
    assert model.entity_set("SupportTickets").app_code is None


def test_static_sets(model):
    apps = model.entity_set("Apps").entity_type
    assert apps.key == ("Id",)
    assert [p.name for p in apps.properties] == [
        "Id", "Code", "Name", "Description", "SpaceId", "ThreadId", "CreatedAt", "CreatorCode",
        "CreatorName", "ModifiedAt", "ModifierCode", "ModifierName"]
    comments = model.entity_set("Comments").entity_type
    assert comments.key == ("AppId", "RecordId", "Id")
    assert comments.property("Mentions").type_name == "Collection(Kintone.Mention)"
    fields = model.entity_set("Fields").entity_type
    assert fields.key == ("AppId", "Code")
    assert {"Entity", "File", "Mention"} <= set(model.complex_types)
    assert [p.name for p in model.complex_type("Kintone.File").properties] == [
        "ContentType", "FileKey", "Name", "Size"]


@pytest.mark.parametrize(
    ("code", "type_name"),
    [
        ("Record_number", "Edm.String"),
        ("Created_by", "Kintone.Entity"),
        ("Created_datetime", "Edm.DateTimeOffset"),
        ("Updated_by", "Kintone.Entity"),
        ("Updated_datetime", "Edm.DateTimeOffset"),
        ("Status", "Edm.String"),
        ("Assignee", "Collection(Kintone.Entity)"),
        ("title", "Edm.String"),
        ("memo", "Edm.String"),
        ("body", "Edm.String"),
        ("price", "Edm.Decimal"),
        ("total", "Edm.Decimal"),
        ("total_digits", "Edm.Decimal"),
        ("due", "Edm.Date"),
        ("stamp", "Edm.DateTimeOffset"),
        ("alarm", "Edm.TimeOfDay"),
        ("span", "Edm.String"),
        ("long_span", "Edm.String"),
        ("tags", "Collection(Edm.String)"),
        ("priority", "Edm.String"),
        ("stage", "Edm.String"),
        ("regions", "Collection(Edm.String)"),
        ("attachments", "Collection(Kintone.File)"),
        ("order_date", "Edm.Date"),
        ("call_time", "Edm.TimeOfDay"),
        ("closed_at", "Edm.DateTimeOffset"),
        ("site", "Edm.String"),
        ("owner", "Collection(Kintone.Entity)"),
        ("dept", "Collection(Kintone.Entity)"),
        ("team", "Collection(Kintone.Entity)"),
        ("customer", "Edm.String"),
        ("顧客名", "Edm.String"),
        ("単価・税込", "Edm.Decimal"),
        ("items", "Collection(Kintone.SALES_items_Row)"),
    ],
)
def test_field_types(quotes, code, type_name):
    prop = quotes.property_for_code(code)
    assert prop.type_name == type_name
    assert prop.kintone_type == QUOTE_FIELDS[code]["type"]
    assert prop.nullable is not prop.collection  # collections are [] when empty, never null


def test_keys_and_pseudo_fields(quotes):
    assert quotes.key == ("Id",)
    assert [p.name for p in quotes.properties[:2]] == ["Id", "Revision"]
    assert quotes.property("Id").kintone_code == "$id"
    assert quotes.property("Revision").type_name == "Edm.Int64"
    assert quotes.name_for_code("$revision") == "Revision"
    assert not quotes.property("Id").nullable


def test_valueless_and_disabled_fields_are_not_properties(quotes):
    for code in ("related", "details", "Categories"):
        with pytest.raises(UnknownName):
            quotes.property_for_code(code)


def test_names_keep_codes_and_rename_clashes(quotes):
    assert quotes.name_for_code("title") == "title"
    assert quotes.name_for_code("顧客名") == "顧客名"
    assert quotes.name_for_code("単価・税込") == "単価_税込"
    assert quotes.name_for_code("Id") == "Id_2"  # the key keeps "Id"
    assert quotes.code_for_name("Id_2") == "Id"
    assert quotes.property("Id_2").label == "External ID"


def test_field_metadata_kept(quotes):
    title = quotes.property("title")
    assert (title.required, title.unique, title.label) == (True, True, "Title")
    assert title.props["maxLength"] == "64"
    assert quotes.property("customer").lookup
    assert quotes.property("customer").props["lookup"]["relatedKeyField"] == "顧客名"
    assert not quotes.property("customer_name").lookup
    assert quotes.property("price").props["unit"] == "JPY"


def test_subtable_collection_and_flat_set(model, quotes):
    items = quotes.property("items")
    row_type = model.complex_type("SALES_items_Row")
    assert items.row_type == row_type
    assert items.kintone_code == "items" and "fields" not in items.props
    assert [p.name for p in row_type.properties] == [
        "RowId", "product", "qty", "amount", "品名", "RowId_2", "line_date", "line_files"]
    flat = model.subtable_set(5, "items")
    assert flat is model.entity_set("SALES_items")
    assert (flat.kind, flat.parent, flat.subtable_code, flat.app_id) == (
        "subtable", "SALES", "items", 5)
    assert flat.entity_type.key == ("RecordId", "RowId")
    assert flat.name_for_code("$id") == "RecordId"
    assert flat.name_for_code("RowId") == "RowId_2"
    assert flat.property("product").lookup
    assert flat.property("amount").type_name == "Edm.Decimal"
    assert flat.property("line_files").type_name == "Collection(Kintone.File)"
    assert model.subtable_sets(5) == (flat,)
    assert model.subtable_sets(3) == ()


def test_form_fields_rows(model):
    rows = {(f.app_id, f.code): f for f in model.form_fields}
    assert len([f for f in model.form_fields if f.app_id == 5]) == len(QUOTE_FIELDS) + 7
    assert rows[5, "Id"].to_odata() == {
        "AppId": 5, "Code": "Id", "Label": "External ID", "Type": "SINGLE_LINE_TEXT",
        "Required": False, "Unique": False, "Subtable": None, "EntitySet": "SALES",
        "Property": "Id_2"}
    assert (rows[5, "related"].entity_set, rows[5, "related"].property) == (None, None)
    assert (rows[5, "Categories"].entity_set, rows[5, "Categories"].property) == (None, None)
    assert (rows[5, "qty"].subtable, rows[5, "qty"].entity_set) == ("items", "SALES_items")
    assert rows[5, "title"].required and rows[5, "title"].unique
    assert rows[7, "顧客名"].entity_set == "顧客管理"


def test_lookups_raise_unknown_name(model, quotes):
    with pytest.raises(UnknownName):
        model.entity_set("Nope")
    with pytest.raises(UnknownName):
        model.records_set(12)
    with pytest.raises(UnknownName):
        model.subtable_set(5, "nope")
    with pytest.raises(UnknownName):
        quotes.property("id")  # OData names are case-sensitive
    with pytest.raises(KeyError):  # UnknownName is a KeyError
        quotes.property_for_code("nope")


def test_model_is_immutable(model, quotes):
    with pytest.raises(FrozenInstanceError):
        quotes.name = "x"
    with pytest.raises(FrozenInstanceError):
        quotes.property("title").name = "x"
    with pytest.raises(TypeError):
        model.entity_sets["x"] = model.entity_set("Apps")
    with pytest.raises(TypeError):
        quotes.property("title").props["label"] = "x"


def shuffled(mapping: dict, seed: int) -> dict:
    items = list(mapping.items())
    random.Random(seed).shuffle(items)
    return {k: shuffled(v, seed) if k == "fields" else v for k, v in items}


def names_of(model: Model) -> dict:
    return {
        name: sorted((p.kintone_code or "", p.name) for p in s.entity_type.properties)
        for name, s in model.entity_sets.items()
    }


@pytest.mark.parametrize("seed", range(5))
def test_names_do_not_depend_on_input_order(model, seed):
    fields = {app_id: shuffled(props, seed) for app_id, props in FIELDS.items()}
    fields["5"] = {k: shuffled(v, seed) if k == "items" else v
                   for k, v in fields.pop(5).items()}
    apps = random.Random(seed).sample(APPS, len(APPS))
    assert names_of(build_model(apps, fields)) == names_of(model)


def test_new_namesake_app_does_not_steal_a_name():
    before = build_model([app(3, "Orders")], {3: SIMPLE})
    after = build_model([app(3, "Orders"), app(20, "ORDERS")], {3: SIMPLE, 20: SIMPLE})
    assert before.records_set(3).name == after.records_set(3).name == "Orders"
    assert after.records_set(20).name == "ORDERS_20"


def test_new_field_does_not_rename_a_valid_code():
    fields = {"a_b": field("NUMBER", "a_b")}
    with_odd = {**fields, "a・b": field("NUMBER", "a・b")}
    model = build_model([app(1, "x")], {1: with_odd})
    assert model.records_set(1).name_for_code("a_b") == "a_b"
    assert model.records_set(1).name_for_code("a・b") == "a_b_2"


def test_case_insensitive_clash_and_literal_names():
    fields = {code: field("SINGLE_LINE_TEXT", code) for code in ("Name", "name", "null", "id")}
    quotes = build_model([app(1, "x")], {1: fields}).records_set(1)
    assert [quotes.name_for_code(c) for c in ("Name", "name", "null", "id")] == [
        "Name", "name_2", "null_2", "id_2"]


def test_aliases_win_when_valid(caplog):
    aliases = Aliases(
        entity_sets={5: "Quotes", "SALES": "Ignored", "3": "Tickets", 9: "Apps", 11: "bad name"},
        properties={(5, "price"): "UnitPrice", ("SALES", "qty"): "Quantity",
                    ("5", "title"): "Id", (5, "total"): "UnitPrice", ("3", "title"): "件名",
                    (5, "items"): "Lines"},
    )
    with caplog.at_level(logging.WARNING, logger="gateway.model.builder"):
        model = build_model(APPS, FIELDS, aliases)
    assert model.records_set(5).name == "Quotes"  # the id wins over the code
    assert model.records_set(3).name == "Tickets"
    assert model.records_set(9).name == "SupportTickets"  # "Apps" is reserved
    assert model.records_set(11).name == "Apps_11"  # not an identifier
    quotes = model.records_set(5)
    assert quotes.name_for_code("price") == "UnitPrice"
    assert quotes.name_for_code("total") == "total"  # "price" sorts first and took the alias
    assert quotes.name_for_code("title") == "title"  # alias clashes with the key
    assert model.subtable_set(5, "items").name == "Quotes_Lines"
    assert model.subtable_set(5, "items").name_for_code("qty") == "Quantity"
    assert model.records_set(3).name_for_code("title") == "件名"
    assert len(caplog.records) == 4


def test_app_code_and_name_fallbacks():
    model = build_model(
        [app(1, "", code="crm-2"), app(2, "・・・"), app(3, "2024 budget")],
        {1: SIMPLE, 2: SIMPLE, 3: SIMPLE})
    assert [model.records_set(i).name for i in (1, 2, 3)] == ["crm_2", "App2", "_2024Budget"]


def test_fields_for_an_unknown_app_are_rejected():
    with pytest.raises(ValueError, match=r"\[99\]"):
        build_model(APPS, {99: SIMPLE})


def test_model_without_apps():
    model = build_model([], {})
    assert list(model.entity_sets) == ["Apps", "Comments", "Fields"]


RECORD = {
    "$id": {"type": "__ID__", "value": "42"},
    "$revision": {"type": "__REVISION__", "value": "3"},
    "Record_number": {"type": "RECORD_NUMBER", "value": "SALES-42"},
    "Created_by": {"type": "CREATOR", "value": {"code": "alice", "name": "Alice Ito"}},
    "Created_datetime": {"type": "CREATED_TIME", "value": "2024-05-01T03:12:00Z"},
    "Status": {"type": "STATUS", "value": "In progress"},
    "Assignee": {"type": "STATUS_ASSIGNEE", "value": [{"code": "bob", "name": "Bob Sato"}]},
    "title": {"type": "SINGLE_LINE_TEXT", "value": "Laptops"},
    "memo": {"type": "MULTI_LINE_TEXT", "value": ""},
    "price": {"type": "NUMBER", "value": "1200.50"},
    "total": {"type": "CALC", "value": ""},
    "due": {"type": "CALC", "value": "2024-06-01"},
    "stamp": {"type": "CALC", "value": "2024-06-01T10:00:00Z"},
    "alarm": {"type": "CALC", "value": "09:30"},
    "span": {"type": "CALC", "value": "25:01"},
    "tags": {"type": "CHECK_BOX", "value": ["new"]},
    "stage": {"type": "DROP_DOWN", "value": None},
    "regions": {"type": "MULTI_SELECT", "value": []},
    "attachments": {"type": "FILE", "value": [
        {"contentType": "image/png", "fileKey": "k1", "name": "a.png", "size": "1024"}]},
    "order_date": {"type": "DATE", "value": None},
    "call_time": {"type": "TIME", "value": "18:05"},
    "closed_at": {"type": "DATETIME", "value": ""},
    "owner": {"type": "USER_SELECT", "value": []},
    "単価・税込": {"type": "NUMBER", "value": "-3.5"},
    "items": {"type": "SUBTABLE", "value": [
        {"id": "3071", "value": {
            "product": {"type": "NUMBER", "value": "7"},
            "qty": {"type": "NUMBER", "value": "2"},
            "amount": {"type": "CALC", "value": "14"},
            "品名": {"type": "SINGLE_LINE_TEXT", "value": "ノートPC"},
            "RowId": {"type": "SINGLE_LINE_TEXT", "value": "r-1"},
            "line_date": {"type": "DATE", "value": "2024-05-02"},
            "line_files": {"type": "FILE", "value": []},
        }}]},
}

EXPECTED = {
    "Id": 42,
    "Revision": 3,
    "Record_number": "SALES-42",
    "Created_by": {"Code": "alice", "Name": "Alice Ito"},
    "Created_datetime": datetime(2024, 5, 1, 3, 12, tzinfo=UTC),
    "Status": "In progress",
    "Assignee": [{"Code": "bob", "Name": "Bob Sato"}],
    "title": "Laptops",
    "memo": None,
    "price": Decimal("1200.50"),
    "total": None,
    "due": date(2024, 6, 1),
    "stamp": datetime(2024, 6, 1, 10, tzinfo=UTC),
    "alarm": time(9, 30),
    "span": "25:01",
    "tags": ["new"],
    "stage": None,
    "regions": [],
    "attachments": [
        {"ContentType": "image/png", "FileKey": "k1", "Name": "a.png", "Size": 1024}],
    "order_date": None,
    "call_time": time(18, 5),
    "closed_at": None,
    "owner": [],
    "単価_税込": Decimal("-3.5"),
    "items": [{"RowId": 3071, "product": Decimal(7), "qty": Decimal(2), "amount": Decimal(14),
               "品名": "ノートPC", "RowId_2": "r-1", "line_date": date(2024, 5, 2),
               "line_files": []}],
}


def test_reading_a_record(quotes):
    shaped = {
        quotes.name_for_code(code): quotes.property_for_code(code).to_odata(cell["value"])
        for code, cell in RECORD.items()
    }
    assert shaped == EXPECTED


def test_reading_a_flat_subtable_row(model):
    row_type = model.complex_type("SALES_items_Row")
    row = row_type.row_to_odata(RECORD["items"]["value"][0])
    assert {"RecordId": 42, **row} == {"RecordId": 42, **EXPECTED["items"][0]}
    flat_type = model.entity_set("SALES_items").entity_type
    assert [p.name for p in flat_type.properties] == ["RecordId", *row]


@pytest.mark.parametrize(
    ("ktype", "value", "props", "expected"),
    [
        ("NUMBER", "", None, None),
        ("NUMBER", "1.5e1", None, Decimal("15")),
        ("CALC", "1", {}, Decimal(1)),  # NUMBER is the default format
        ("CALC", "36:00", {"format": "DAY_HOUR_MINUTE"}, "36:00"),
        ("CALC", "2024-05-01", {"format": "DATE"}, date(2024, 5, 1)),
        ("CALC", "", {"format": "DATETIME"}, None),
        ("RADIO_BUTTON", "", None, None),
        ("CATEGORY", None, None, []),
        ("MODIFIER", {"code": "Administrator", "name": "Administrator"}, None,
         {"Code": "Administrator", "Name": "Administrator"}),
        ("GROUP_SELECT", [{"code": "admins", "name": "Admins"}], None,
         [{"Code": "admins", "Name": "Admins"}]),
        ("UPDATED_TIME", "2024-05-01T03:12:00Z", None, datetime(2024, 5, 1, 3, 12, tzinfo=UTC)),
        ("__ID__", "7", None, 7),
    ],
)
def test_to_odata(ktype, value, props, expected):
    assert to_odata(ktype, value, props) == expected


def test_to_odata_rejects_unknown_types_and_bad_numbers():
    with pytest.raises(ValueError):
        to_odata("SUBTABLE", [], None)
    with pytest.raises(ValueError):
        to_odata("NUMBER", "12abc", None)


# --- The same against the sandbox: real fields.json and records over HTTP -------------------

SANDBOX_QUOTE_FIELDS = {
    code: props for code, props in QUOTE_FIELDS.items()
    if props["type"] not in {"RECORD_NUMBER", "CREATOR", "CREATED_TIME", "MODIFIER",
                             "UPDATED_TIME", "STATUS", "STATUS_ASSIGNEE", "CATEGORY"}
}
PROCESS = {
    "enable": True,
    "states": {"Open": {"name": "Open", "index": "0",
                        "assignee": {"type": "ONE", "entities": []}}},
    "actions": [],
}


@pytest.fixture(scope="module")
def sandbox_apps(admin) -> tuple[int, int]:
    customers = admin.make_app(
        {"顧客名": field("SINGLE_LINE_TEXT", "顧客名", unique=True)}, name="顧客管理")
    admin.ok("POST", "record", {"app": customers, "record": {"顧客名": {"value": "ACME"}}})
    lookup = {**LOOKUP, "relatedApp": {"app": str(customers)}}
    fields = {**SANDBOX_QUOTE_FIELDS, "customer": {**QUOTE_FIELDS["customer"], "lookup": lookup}}
    # A NUMBER lookup key needs a NUMBER key field in the related app; not this test's point.
    items = dict(fields["items"]["fields"])
    items["product"] = {k: v for k, v in items["product"].items() if k != "lookup"}
    fields["items"] = {**fields["items"], "fields": items}
    fields["related"] = field("REFERENCE_TABLE", "related", referenceTable={
        "relatedApp": {"app": str(customers)},
        "condition": {"field": "customer", "relatedField": "顧客名"},
        "filterCond": "", "displayFields": ["顧客名"], "sort": "", "size": "5"})
    fields["total"] = {**fields["total"], "expression": "price * 2"}
    quotes = admin.make_app(fields, name="Quotes", process=PROCESS)
    return customers, quotes


@pytest.fixture(scope="module")
def sandbox_model(admin, sandbox_apps) -> Model:
    apps = admin.ok("GET", "apps", params={"ids": list(sandbox_apps)})["apps"]
    fields = {
        app_id: admin.ok("GET", "app/form/fields", params={"app": app_id})["properties"]
        for app_id in sandbox_apps
    }
    return build_model(apps, fields)


def test_sandbox_fields_build_the_same_types(sandbox_model, sandbox_apps, quotes):
    _, quotes_id = sandbox_apps
    real = sandbox_model.records_set(quotes_id).entity_type
    assert sandbox_model.records_set(quotes_id).name == "Quotes"
    assert sandbox_model.records_set(sandbox_apps[0]).name == "顧客管理"
    def shapes(entity_type):  # row types are named after the app, which differs here
        return {(p.name, p.row_type is None and p.type_name) for p in entity_type.properties}

    assert shapes(real) == shapes(quotes)
    assert real.property("customer").lookup
    with pytest.raises(UnknownName):
        real.property_for_code("Categories")  # fields.json lists it, disabled
    flat = sandbox_model.subtable_set(quotes_id, "items")
    assert flat.name == "Quotes_items"
    assert [p.name for p in flat.entity_type.properties] == [
        "RecordId", "RowId", "product", "qty", "amount", "品名", "RowId_2", "line_date",
        "line_files"]


def test_sandbox_record_reads_through_the_model(admin, sandbox_model, sandbox_apps):
    _, quotes_id = sandbox_apps
    record_id = admin.ok("POST", "record", {"app": quotes_id, "record": {
        "title": {"value": "Laptops"}, "price": {"value": "12.5"},
        "customer": {"value": "ACME"}, "order_date": {"value": "2024-05-01"},
        "closed_at": {"value": "2024-05-01T10:00:00Z"}, "tags": {"value": ["new"]},
        "単価・税込": {"value": "1100"},
        "items": {"value": [{"value": {"qty": {"value": "2"}, "品名": {"value": "PC"}}}]},
    }})["id"]
    record = admin.ok("GET", "record", params={"app": quotes_id, "id": record_id})["record"]
    entity_type = sandbox_model.records_set(quotes_id).entity_type
    shaped = {
        entity_type.name_for_code(code): entity_type.property_for_code(code).to_odata(c["value"])
        for code, c in record.items()
    }
    assert shaped["Id"] == int(record_id)
    assert shaped["price"] == Decimal("12.5")
    assert shaped["total"] == Decimal(25)
    assert shaped["customer_name"] == "ACME"  # copied by the lookup
    assert shaped["order_date"] == date(2024, 5, 1)
    assert shaped["closed_at"] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert shaped["Created_by"]["Code"] == "admin"
    assert shaped["Status"] == "Open"
    assert shaped["tags"] == ["new"] and shaped["regions"] == [] and shaped["stage"] is None
    assert shaped["単価_税込"] == Decimal(1100)
    [row] = shaped["items"]
    assert (row["qty"], row["品名"], row["line_date"], row["line_files"]) == (
        Decimal(2), "PC", None, [])
    assert isinstance(row["RowId"], int)


def test_helpers_for_the_static_sets(model):
    assert mentions([{"code": "sales", "type": "ORGANIZATION"}]) == [
        {"Code": "sales", "Type": "ORGANIZATION"}]
    assert parse_datetime("2023-11-02T01:22:10.000Z") == datetime(2023, 11, 2, 1, 22, 10,
                                                                   tzinfo=UTC)
    names = [t.name for t in model.entity_types]
    assert names[:4] == ["App", "Comment", "Field", "SupportTickets"]
    assert len(names) == len(set(names)) == len(model.entity_sets)


def test_navigation_properties_never_rename_a_field():
    customers = {"code": field("SINGLE_LINE_TEXT", "code"),
                 "Comments": field("SINGLE_LINE_TEXT", "Comments"),
                 "lines": field("SUBTABLE", "lines", fields={
                     "item": field("SINGLE_LINE_TEXT", "item")}),
                 "lines_Rows": field("NUMBER", "lines_Rows")}
    orders = {"cust": field("SINGLE_LINE_TEXT", "cust", lookup={
        "relatedApp": {"app": "", "code": "CUST"}, "relatedKeyField": "code",
        "fieldMappings": [], "lookupPickerFields": [], "filterCond": "", "sort": ""}),
              "hidden": field("SINGLE_LINE_TEXT", "hidden", lookup={**LOOKUP}),
              "by code": field("REFERENCE_TABLE", "by code", referenceTable={
                  "relatedApp": {"app": "1"}, "condition": {"field": "cust",
                                                            "relatedField": "code"},
                  "filterCond": "code != \"\"", "displayFields": [], "sort": "", "size": "5"})}
    model = build_model([app(1, "Customers", "CUST"), app(2, "Orders", "ORD")],
                        {1: customers, 2: orders})
    cust = model.entity_set("CUST").entity_type
    assert {"Comments", "lines_Rows"} <= {p.name for p in cust.properties}
    assert [(n.name, n.kind, n.target) for n in cust.navigation] == [
        ("Comments_2", "comments", "Comments"), ("lines_Rows_2", "rows", "CUST_lines")]
    order = model.entity_set("ORD").entity_type
    # The lookup into app 7, which is not exposed, leads nowhere.
    assert [(n.name, n.kind, n.target, n.source, n.related_key, n.condition)
            for n in order.navigation] == [
        ("Comments", "comments", "Comments", None, None, None),
        ("cust_Record", "lookup", "CUST", "cust", "code", None),
        ("by_code", "reference", "CUST", "cust", "code", 'code != ""')]
