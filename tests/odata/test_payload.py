"""JSON payloads: shapes per metadata level, value serialisation, streaming collections."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.model import Model, build_model
from gateway.odata.errors import ODataError
from gateway.odata.payload import (
    CHUNK_SIZE,
    collection_end,
    collection_start,
    context_url,
    dumps,
    entity_document,
    entity_json,
    entity_url,
    json_number,
    json_value,
    key_predicate,
    property_json,
    raw_value,
    select_tree,
    stream_collection,
)

BASE = "https://gw.example/odata/"


def field(ftype: str, code: str, label: str | None = None, **props) -> dict:
    return {"type": ftype, "code": code, "label": label or code, "noLabel": False, **props}


FIELDS = {
    "Created_by": field("CREATOR", "Created_by"),
    "title": field("SINGLE_LINE_TEXT", "title", "Title"),
    "price": field("NUMBER", "price", "Price"),
    "due": field("DATE", "due"),
    "closed_at": field("DATETIME", "closed_at"),
    "alarm": field("TIME", "alarm"),
    "done": field("CHECK_BOX", "done", options={}),
    "owner": field("USER_SELECT", "owner"),
    "attachments": field("FILE", "attachments"),
    "単価": field("NUMBER", "単価"),
    "items": field("SUBTABLE", "items", fields={
        "qty": field("NUMBER", "qty"),
        "files": field("FILE", "files"),
    }),
}

# A record as Kintone's record.json returns it.
RECORD = {
    "$id": {"type": "__ID__", "value": "42"},
    "$revision": {"type": "__REVISION__", "value": "7"},
    "Created_by": {"type": "CREATOR", "value": {"code": "alice", "name": "Alice Ito"}},
    "title": {"type": "SINGLE_LINE_TEXT", "value": 'Laptops <&"> ノート'},
    "price": {"type": "NUMBER", "value": "12345678901234567890.123456789"},
    "due": {"type": "DATE", "value": "2024-06-01"},
    "closed_at": {"type": "DATETIME", "value": "2024-05-01T10:00:00Z"},
    "alarm": {"type": "TIME", "value": "09:30"},
    "done": {"type": "CHECK_BOX", "value": ["yes"]},
    "owner": {"type": "USER_SELECT", "value": [{"code": "bob", "name": "Bob Sato"}]},
    "attachments": {"type": "FILE", "value": [
        {"contentType": "image/png", "fileKey": "k1", "name": "a.png", "size": "1024"}]},
    "単価": {"type": "NUMBER", "value": ""},
    "items": {"type": "SUBTABLE", "value": [{"id": "3071", "value": {
        "qty": {"type": "NUMBER", "value": "2"}, "files": {"type": "FILE", "value": []}}}]},
}


@pytest.fixture(scope="module")
def model() -> Model:
    app = {"appId": "5", "code": "SALES", "name": "Quotes"}
    return build_model([app], {5: FIELDS})


@pytest.fixture(scope="module")
def sales(model):
    return model.entity_set("SALES")


@pytest.fixture(scope="module")
def entity(sales) -> dict:
    """The record's OData values, as the web layer hands them in."""
    return {
        sales.name_for_code(code): sales.property_for_code(code).to_odata(cell["value"])
        for code, cell in RECORD.items()
    }


def parse(text: str):
    return json.loads(text, parse_float=Decimal)


# --- Shapes per metadata level ---------------------------------------------------------------

def test_minimal_metadata(sales, entity):
    assert parse(dumps(entity_json(sales, entity, base_url=BASE))) == {
        "@odata.etag": 'W/"7"',
        "Id": 42, "Revision": 7,
        "Created_by": {"Code": "alice", "Name": "Alice Ito"},
        "title": 'Laptops <&"> ノート',
        "price": Decimal("12345678901234567890.123456789"),
        "due": "2024-06-01", "closed_at": "2024-05-01T10:00:00Z", "alarm": "09:30:00",
        "done": ["yes"],
        "owner": [{"Code": "bob", "Name": "Bob Sato"}],
        "attachments": [{"ContentType": "image/png", "FileKey": "k1", "Name": "a.png",
                         "Size": 1024}],
        "単価": None,
        "items": [{"RowId": 3071, "qty": 2, "files": []}],
    }


def test_full_metadata_adds_ids_links_and_types(sales, entity):
    body = entity_json(sales, entity, metadata="full", base_url=BASE)
    assert list(body)[:4] == ["@odata.type", "@odata.id", "@odata.etag", "@odata.editLink"]
    assert body["@odata.type"] == "#Kintone.SALES"
    assert body["@odata.id"] == body["@odata.editLink"] == "https://gw.example/odata/SALES(42)"
    assert body["Comments@odata.navigationLink"] == "https://gw.example/odata/SALES(42)/Comments"
    assert "Comments@odata.navigationLink" not in entity_json(sales, entity, base_url=BASE)
    annotations = {k: v for k, v in body.items() if "@odata.type" in k and k != "@odata.type"}
    assert annotations == {
        "Id@odata.type": "#Int64", "Revision@odata.type": "#Int64",
        "price@odata.type": "#Decimal", "due@odata.type": "#Date",
        "closed_at@odata.type": "#DateTimeOffset", "alarm@odata.type": "#TimeOfDay",
        "done@odata.type": "#Collection(String)",
        "owner@odata.type": "#Collection(Kintone.Entity)",
        "attachments@odata.type": "#Collection(Kintone.File)",
        "items@odata.type": "#Collection(Kintone.SALES_items_Row)",
    }  # not for strings, not for nulls (単価), not for single complex values
    assert body["Created_by"] == {"@odata.type": "#Kintone.Entity", "Code": "alice",
                                  "Name": "Alice Ito"}
    assert body["attachments"][0]["@odata.type"] == "#Kintone.File"
    assert body["attachments"][0]["Size@odata.type"] == "#Int64"
    assert body["items"][0] == {
        "@odata.type": "#Kintone.SALES_items_Row", "RowId@odata.type": "#Int64", "RowId": 3071,
        "qty@odata.type": "#Decimal", "qty": Decimal(2),
        "files@odata.type": "#Collection(Kintone.File)", "files": [],
    }
    # Each annotation comes right before its property, as odata.streaming=true requires.
    keys = list(body)
    assert keys.index("price@odata.type") + 1 == keys.index("price")


def test_no_metadata_has_no_control_information(sales, entity):
    body = entity_json(sales, entity, metadata="none", base_url=BASE)
    assert not [key for key in body if "@" in key]
    assert "@odata.type" not in body["Created_by"]


def test_etag_is_only_for_record_sets(model):
    rows = model.entity_set("SALES_items")
    row = {"RecordId": 42, "RowId": 3071, "qty": Decimal(2), "files": []}
    assert entity_json(rows, row) == {"RecordId": 42, "RowId": 3071, "qty": Decimal(2),
                                      "files": []}
    full = entity_json(rows, row, metadata="full", base_url=BASE)
    assert full["@odata.id"] == "https://gw.example/odata/SALES_items(RecordId=42,RowId=3071)"


def test_select_keeps_only_the_selected_properties_in_model_order(sales, entity):
    body = entity_json(sales, entity, select=["title", "items/qty", "Id", "owner/Code"])
    assert body == {
        "@odata.etag": 'W/"7"', "Id": 42, "title": 'Laptops <&"> ノート',
        "owner": [{"Code": "bob"}], "items": [{"qty": Decimal(2)}],
    }
    assert entity_json(sales, entity, select=[]) == entity_json(sales, entity)


@given(data=st.data())
def test_an_entity_lacking_properties_or_holding_others_is_shaped_alike(sales, entity, data):
    """The planned shape (one generated function) and the property-by-property one agree:
    properties in model order, missing ones left out, unknown ones ignored, no ETag without a
    revision."""
    whole = entity_json(sales, entity)
    names = data.draw(st.lists(st.sampled_from(sorted(entity)), unique=True))
    partial = {name: entity[name] for name in names}
    partial |= data.draw(st.dictionaries(st.sampled_from(["extra", "@odata.x"]), st.integers()))
    if "Revision" in partial and data.draw(st.booleans()):
        partial["Revision"] = None
    expected = {key: None if partial[key] is None else value for key, value in whole.items()
                if key in partial}
    if partial.get("Revision") is not None:
        expected = {"@odata.etag": whole["@odata.etag"], **expected}
    assert list(entity_json(sales, partial).items()) == list(expected.items())


def test_select_tree():
    assert select_tree(None) is None
    assert select_tree(()) is None
    assert select_tree(["a", "b/c", "b/d/e", "f/g", "f"]) == {
        "a": None, "b": {"c": None, "d": {"e": None}}, "f": None}


def test_full_metadata_needs_the_key(sales, entity):
    keyless = {k: v for k, v in entity.items() if k != "Id"}
    with pytest.raises(ValueError, match="key"):
        entity_json(sales, keyless, metadata="full", base_url=BASE)


def test_single_entity_document(sales, entity):
    body = entity_document(sales, entity, base_url=BASE, select=["title"])
    assert body == {
        "@odata.context": "https://gw.example/odata/$metadata#SALES(title)/$entity",
        "@odata.etag": 'W/"7"', "title": 'Laptops <&"> ノート',
    }
    assert "@odata.context" not in entity_document(sales, entity, metadata="none")


# --- URLs ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "#Customers"),
        ({"select": ["Name", "Id"]}, "#Customers(Name,Id)"),
        ({"select": ()}, "#Customers"),
        ({"entity": True}, "#Customers/$entity"),
        ({"entity": True, "select": ["Name"]}, "#Customers(Name)/$entity"),
        ({"key": "(42)", "property": "Name"}, "#Customers(42)/Name"),
    ],
)
def test_context_urls(kwargs, expected):
    assert context_url("http://h/odata/", "Customers", **kwargs) == (
        "http://h/odata/$metadata" + expected)
    assert context_url("http://h/odata", "Customers", **kwargs).endswith(expected)


def test_property_context_url_needs_the_key():
    with pytest.raises(ValueError):
        context_url(BASE, "Customers", property="Name")


def test_key_predicates_quote_and_encode_strings(model):
    fields = model.entity_set("Fields")
    predicate = key_predicate(fields.entity_type, {"AppId": 5, "Code": "it's a/b#c 単価"})
    assert predicate == "(AppId=5,Code='it''s%20a%2Fb%23c%20%E5%8D%98%E4%BE%A1')"
    assert entity_url(BASE, fields, {"AppId": 5, "Code": "x"}) == (
        "https://gw.example/odata/Fields(AppId=5,Code='x')")


# --- Values ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.50"), "12.50"),
        (Decimal("-0.5"), "-0.5"),
        (Decimal("1E+3"), "1000"),  # plain notation: 4.0 decimal literals have no exponent
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("12345678901234567890.123456789"), "12345678901234567890.123456789"),
        (9007199254740993, "9007199254740993"),  # beyond 2**53: exact all the same
        (True, "true"),
        (None, "null"),
        (date(2024, 2, 29), '"2024-02-29"'),
        (date(33, 1, 1), '"0033-01-01"'),
        (datetime(2024, 5, 1, 10, 0, tzinfo=UTC), '"2024-05-01T10:00:00Z"'),
        (datetime(2024, 5, 1, 19, 0, tzinfo=timezone(timedelta(hours=9))),
         '"2024-05-01T10:00:00Z"'),
        (datetime(2023, 11, 2, 1, 22, 10, 123456, tzinfo=UTC), '"2023-11-02T01:22:10.123Z"'),
        (time(9, 30), '"09:30:00"'),
        ("改行\n\"引用\"", '"改行\\n\\"引用\\""'),
    ],
)
def test_json_values(value, expected):
    assert dumps(json_value(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("12.50"), "12.50"), (Decimal("1E+3"), "1000"), (42, "42"), (True, True),
     ("x", "x"), (None, None)],
)
def test_ieee754_compatible_writes_int64_and_decimal_as_strings(value, expected):
    assert json_value(value, ieee754=True) == expected


def test_ieee754_reaches_nested_values(sales, entity):
    body = parse(dumps(entity_json(sales, entity, ieee754=True)))
    assert (body["Id"], body["price"]) == ("42", "12345678901234567890.123456789")
    assert body["attachments"][0]["Size"] == "1024"
    assert body["items"][0] == {"RowId": "3071", "qty": "2", "files": []}
    assert body["title"] == 'Laptops <&"> ノート' and body["単価"] is None


def test_bad_values_are_refused():
    with pytest.raises(ValueError):
        json_value(datetime(2024, 5, 1))  # naive: no offset to write
    with pytest.raises(ValueError):
        dumps(Decimal("NaN"))
    with pytest.raises(TypeError):
        json_value(object())
    with pytest.raises(TypeError):
        dumps({"a": {1, 2}})


def test_dumps_is_compact_and_round_trips(sales, entity):
    body = entity_json(sales, entity, metadata="full", base_url=BASE)
    text = dumps(body)
    assert ", " not in text.replace('"Laptops <&\\"> ノート"', "")
    assert "ノート" in text  # UTF-8, not \u escapes
    assert parse(text) == body


# --- Properties and raw values ---------------------------------------------------------------

def test_primitive_property(sales, entity):
    assert property_json(sales, entity, "price", base_url=BASE) == {
        "@odata.context": "https://gw.example/odata/$metadata#SALES(42)/price",
        "value": Decimal("12345678901234567890.123456789"),
    }
    assert property_json(sales, entity, "price", metadata="none", ieee754=True) == {
        "value": "12345678901234567890.123456789"}


def test_complex_and_collection_properties(sales, entity):
    assert property_json(sales, entity, "Created_by", base_url=BASE) == {
        "@odata.context": "https://gw.example/odata/$metadata#SALES(42)/Created_by",
        "Code": "alice", "Name": "Alice Ito",
    }
    assert property_json(sales, entity, "items", base_url=BASE)["value"] == [
        {"RowId": 3071, "qty": Decimal(2), "files": []}]
    full = property_json(sales, entity, "Created_by", metadata="full", base_url=BASE)
    assert full["@odata.type"] == "#Kintone.Entity"


@pytest.mark.parametrize(
    ("value", "text"),
    [("ノート", "ノート"), (Decimal("1E+2"), "100"), (42, "42"), (False, "false"),
     (date(2024, 6, 1), "2024-06-01"), (time(9, 30), "09:30:00"),
     (datetime(2024, 5, 1, tzinfo=UTC), "2024-05-01T00:00:00Z")],
)
def test_raw_values(value, text):
    assert raw_value(value) == text


def test_raw_value_of_a_structured_value_is_a_bad_request():
    for value in ({"Code": "a"}, ["a"]):
        with pytest.raises(ODataError) as caught:
            raw_value(value)
        assert caught.value.status == 400


# --- Streaming collections -------------------------------------------------------------------

def test_collection_frame():
    assert collection_start("ctx", 3) == '{"@odata.context":"ctx","@odata.count":3,"value":['
    assert collection_start(None, 3, ieee754=True) == '{"@odata.count":"3","value":['
    assert collection_start(None) == '{"value":['
    assert collection_end() == "]}"
    assert collection_end("http://h/next?$skiptoken=a\"b") == (
        '],"@odata.nextLink":"http://h/next?$skiptoken=a\\"b"}')


def test_stream_concatenates_to_the_collection(sales, entity):
    context = context_url(BASE, "SALES")
    entities = [entity_json(sales, entity, base_url=BASE)] * 3
    text = b"".join(stream_collection(context, entities, count=10,
                                      next_link_factory=lambda: BASE + "SALES?$skiptoken=3"))
    body = parse(text)
    assert list(body) == ["@odata.context", "@odata.count", "value", "@odata.nextLink"]
    assert body["@odata.context"] == "https://gw.example/odata/$metadata#SALES"
    assert body["@odata.count"] == 10
    assert body["value"] == [parse(dumps(e)) for e in entities]
    assert body["@odata.nextLink"] == "https://gw.example/odata/SALES?$skiptoken=3"


def test_empty_stream_without_count_or_next_link():
    assert parse(b"".join(stream_collection(None, []))) == {"value": []}
    assert b"".join(stream_collection(None, [], next_link_factory=lambda: None)) == (
        b'{"value":[]}')


def test_stream_is_lazy_and_chunked():
    pulled = []

    def entities():
        for i in range(2000):
            pulled.append(i)
            yield {"Id": i, "text": "x" * 100}

    asked_for_next_link = []

    def next_link() -> str:
        asked_for_next_link.append(len(pulled))
        return "next"

    chunks = stream_collection("ctx", entities(), count=2000, next_link_factory=next_link)
    first = next(chunks)
    assert len(first) >= CHUNK_SIZE and len(pulled) < 2000  # written before all were read
    rest = list(chunks)
    assert len(rest) >= 2 and all(len(chunk) < 2 * CHUNK_SIZE for chunk in rest)
    assert asked_for_next_link == [2000]  # only once every entity was written
    body = parse(first + b"".join(rest))
    assert [e["Id"] for e in body["value"]] == list(range(2000))
    assert body["@odata.nextLink"] == "next"


def test_one_entity_the_fast_encoder_refuses_leaves_the_others_to_it():
    """Entities are written many to one orjson call; a value only the exact encoder writes (an
    integer beyond 64 bits) sends that entity alone to it, whatever its neighbours hold (an
    already-written number the exact encoder does not take)."""
    entities = [{"Id": n, "amount": json_number("12.50")} for n in range(120)]
    entities[77] = {"Id": 2 ** 70, "amount": Decimal("1.5")}
    body = parse(b"".join(stream_collection(None, entities)))
    assert [e["Id"] for e in body["value"]] == [*range(77), 2 ** 70, *range(78, 120)]
    assert body["value"][0]["amount"] == Decimal("12.50")
    assert body["value"][77]["amount"] == Decimal("1.5")
