"""Unit tests of per-type value writing, constraints, defaults and read shaping."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.sandbox.apps import App
from gateway.sandbox.clock import Clock
from gateway.sandbox.context import Caller, Ctx
from gateway.sandbox.directory import Directory
from gateway.sandbox.errors import KintoneError, Problems
from gateway.sandbox.fields import FieldDef, system_properties
from gateway.sandbox.query.values import datetime_literal
from gateway.sandbox.store import Database
from gateway.sandbox.temporal import parse_date
from gateway.sandbox.values import (
    ErrorKey,
    Precision,
    WriteTarget,
    check_value,
    default_value,
    format_number,
    normalize_date,
    normalize_datetime,
    parse_number,
    typed_record,
    write_value,
)

NOW = datetime(2024, 5, 1, 22, 30, 45, tzinfo=UTC)  # already May 2nd in Tokyo


@pytest.fixture
def ctx() -> Ctx:
    db = Database()
    directory = Directory(db)
    directory.add_organization("sales", "Sales")
    directory.add_group("admins", "Administrators")
    alice = directory.add_user("alice", "pw", "Alice Ito", organizations=["sales"], admin=False)
    sandbox = SimpleNamespace(db=db, clock=Clock(fixed=NOW), directory=directory,
                              config=SimpleNamespace(timezone="Asia/Tokyo"))
    return Ctx(sandbox=sandbox, caller=Caller(user=alice))  # type: ignore[arg-type]


def field(ftype: str, **props: Any) -> FieldDef:
    return FieldDef("f", ftype, {"type": ftype, "code": "f", **props})


def write(ctx: Ctx, fd: FieldDef, raw: Any, *, in_table: bool = False,
          precision: Precision | None = None) -> tuple[Any, dict]:
    problems = Problems()
    key = ErrorKey.inner("record", "t", 0, "f") if in_table else ErrorKey.top("record", "f")
    target = WriteTarget(ctx, fd, key, problems, precision or Precision(), in_table)
    return write_value(target, raw), problems.errors


def check(fd: FieldDef, value: Any) -> dict:
    problems = Problems()
    check_value(fd, value, ErrorKey.top("record", "f"), problems)
    return problems.errors


# -- numbers


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("1.5e1", "15"), (" 42 ", "42"), ("1.50", "1.5"), ("-0", "0"), (".5", "0.5"),
     (12, "12"), (2.5, "2.5"), ("", ""), (None, ""), ("1e3", "1000")],
)
def test_number_normalisation(ctx: Ctx, raw: Any, stored: str) -> None:
    assert write(ctx, field("NUMBER"), raw) == (stored, {})


@pytest.mark.parametrize("raw", ["abc", "12abc", "1,000", "Infinity", "NaN", "1_000", "0x10"])
def test_number_garbage_at_top_level(ctx: Ctx, raw: str) -> None:
    assert write(ctx, field("NUMBER"), raw) == ("", {
        "record[f].value": ["Only numbers are allowed."],
        "record.f.value": ["Required."],
    })


def test_number_garbage_in_subtable_is_silently_empty(ctx: Ctx) -> None:
    assert write(ctx, field("NUMBER"), "abc", in_table=True) == ("", {})


def test_number_precision(ctx: Ctx) -> None:
    assert write(ctx, field("NUMBER"), "1.23456")[0] == "1.2346"
    assert write(ctx, field("NUMBER"), "0.00005")[0] == "0"  # HALF_EVEN
    assert write(ctx, field("NUMBER"), "999999999999.9999")[0] == "999999999999.9999"
    _, errors = write(ctx, field("NUMBER"), "1234567890123")
    assert errors == {"record.f.value": ["The number of significant digits is exceeded."]}
    _, errors = write(ctx, field("NUMBER"), "999999999999.99999")  # rounds up to 13 digits
    assert "record.f.value" in errors
    assert write(ctx, field("NUMBER"), "1.25", precision=Precision(10, 1, ROUND_UP))[0] == "1.3"
    assert write(ctx, field("NUMBER"), "-1.29", precision=Precision(10, 1, ROUND_DOWN))[0] == "-1.2"


def test_precision_of_app_settings() -> None:
    app = SimpleNamespace(app_settings={"numberPrecision": {
        "digits": "8", "decimalPlaces": "2", "roundingMode": "UP"}})
    assert Precision.of(app) == Precision(8, 2, ROUND_UP)  # type: ignore[arg-type]


def test_number_helpers() -> None:
    assert parse_number(" -3.5 ") == Decimal("-3.5")
    assert parse_number("1,0") is None
    assert format_number(Decimal("1E+2")) == "100"


# -- text, options, dates


def test_text_types(ctx: Ctx) -> None:
    for ftype in ("SINGLE_LINE_TEXT", "MULTI_LINE_TEXT", "RICH_TEXT", "LINK"):
        assert write(ctx, field(ftype), "abc") == ("abc", {})
        assert write(ctx, field(ftype), None) == ("", {})
        assert write(ctx, field(ftype), 12) == ("12", {})


@pytest.mark.parametrize("raw", [{"a": 1}, ["a"]])
def test_object_where_string_expected_is_cb_ij01(ctx: Ctx, raw: Any) -> None:
    with pytest.raises(KintoneError) as info:
        write(ctx, field("SINGLE_LINE_TEXT"), raw)
    assert info.value.code == "CB_IJ01"


@pytest.mark.parametrize("raw", ["A", [1], {"code": "A"}])
def test_non_list_for_multi_value_is_cb_ij01(ctx: Ctx, raw: Any) -> None:
    with pytest.raises(KintoneError) as info:
        write(ctx, field("CHECK_BOX", options={"A": {}}), raw)
    assert info.value.code == "CB_IJ01"


def test_choice_fields(ctx: Ctx) -> None:
    assert write(ctx, field("DROP_DOWN"), "") == (None, {})
    assert write(ctx, field("DROP_DOWN"), "A") == ("A", {})
    assert write(ctx, field("RADIO_BUTTON"), "A") == ("A", {})
    assert write(ctx, field("CHECK_BOX"), ["A", "B"]) == (["A", "B"], {})
    assert write(ctx, field("MULTI_SELECT"), None) == ([], {})


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("2024-05-01", "2024-05-01"), ("2015", "2015-01-01"), ("2015-7", "2015-07-01"),
     ("2015-7-5", "2015-07-05"), ("", None), (None, None)],
)
def test_date_input_forms(ctx: Ctx, raw: Any, stored: str | None) -> None:
    assert write(ctx, field("DATE"), raw) == (stored, {})


@pytest.mark.parametrize(
    ("ftype", "raw", "stored"),
    [
        ("TIME", "09:30", "09:30"), ("TIME", "9:30:15", "09:30"), ("TIME", "", None),
        ("DATETIME", "2024-05-01T12:34:56Z", "2024-05-01T12:34:00Z"),
        ("DATETIME", "2024-05-01T12:34Z", "2024-05-01T12:34:00Z"),
        ("DATETIME", "2024-05-01T21:34:56+09:00", "2024-05-01T12:34:00Z"),
        ("DATETIME", "2024-05-01T12:34:56.789-0130", "2024-05-01T14:04:00Z"),
        ("DATETIME", "2024-05-01T12:34:56", "2024-05-01T12:34:00Z"),
        ("DATETIME", "2024-05-01", "2024-05-01T00:00:00Z"),
        ("DATETIME", "", ""),
    ],
)
def test_time_and_datetime_input(ctx: Ctx, ftype: str, raw: str, stored: str | None) -> None:
    assert write(ctx, field(ftype), raw) == (stored, {})


@pytest.mark.parametrize(
    ("ftype", "raw", "message"),
    [("DATE", "2024-02-30", "Invalid date format."), ("DATE", "May 1", "Invalid date format."),
     ("TIME", "24:00", "Invalid time format."),
     ("DATETIME", "yesterday", "Invalid datetime format.")],
)
def test_invalid_dates(ctx: Ctx, ftype: str, raw: str, message: str) -> None:
    assert write(ctx, field(ftype), raw)[1] == {"record.f.value": [message]}


def test_parse_date_rejects_impossible_dates() -> None:
    assert normalize_date("2023-02-29") is None
    assert normalize_date("2024-02-29") == "2024-02-29"


def test_writes_and_query_literals_share_one_parser_with_their_own_rules() -> None:
    # Writes: blanks around a value and partial dates; a query literal: neither.
    assert normalize_date(" 2015-7 ") == "2015-07-01"
    assert parse_date("2015-7") is None
    assert normalize_datetime("2020-1-1T1:00+09:00") == "2019-12-31T16:00:00Z"
    assert datetime_literal("2020-1-1T01:00+09:00") is None  # two-digit parts in a query
    assert datetime_literal("2020-01-01T01:00:59+09:00") == datetime(2019, 12, 31, 16, 0,
                                                                     tzinfo=UTC)
    # An offset of a day or more is no time zone; the value is invalid, as one out of range.
    assert normalize_datetime("2020-01-01T00:00+24:00") is None
    assert normalize_datetime("0001-01-01T00:00+01:00") is None  # before year 1 in UTC


# -- users, organisations, groups, files


def test_entity_selects_get_names_from_the_directory(ctx: Ctx) -> None:
    assert write(ctx, field("USER_SELECT"), [{"code": "alice"}, {"code": "alice"}]) == (
        [{"code": "alice", "name": "Alice Ito"}], {})
    assert write(ctx, field("ORGANIZATION_SELECT"), [{"code": "sales"}])[0] == [
        {"code": "sales", "name": "Sales"}]
    assert write(ctx, field("GROUP_SELECT"), [{"code": "admins", "name": "x"}])[0] == [
        {"code": "admins", "name": "Administrators"}]


def test_unknown_entities_are_rejected(ctx: Ctx) -> None:
    _, errors = write(ctx, field("USER_SELECT"), [{"code": "ghost"}])
    assert errors == {"record.f.values.value": ["The user (ghost) does not exist."]}
    _, errors = write(ctx, field("GROUP_SELECT"), [{"code": "sales"}])
    assert errors == {"record.f.values.value": ["The group (sales) does not exist."]}
    with pytest.raises(KintoneError):
        write(ctx, field("USER_SELECT"), [{"login": "alice"}])


def test_file_upload_key_becomes_download_key(ctx: Ctx) -> None:
    ctx.db.conn.execute(
        "INSERT INTO files (key, kind, name, content_type, size, created_at, content) "
        "VALUES ('up1', 'upload', 'a.png', 'image/png', 1024, '2024-05-01T00:00:00Z', x'00')"
    )
    value, errors = write(ctx, field("FILE"), [{"fileKey": "up1"}])
    assert errors == {}
    [stored] = value
    assert stored["fileKey"] != "up1" and stored["fileKey"].startswith("20240501223045")
    assert stored | {"fileKey": "k"} == {
        "contentType": "image/png", "fileKey": "k", "name": "a.png", "size": "1024"}
    # Writing the read shape back keeps the file.
    assert write(ctx, field("FILE"), value)[0] == value
    _, errors = write(ctx, field("FILE"), [{"fileKey": "up1"}])  # consumed
    assert errors == {"record.f.values": ["The file key (up1) is invalid."]}


# -- constraints


def test_required_keys_by_shape() -> None:
    assert check(field("SINGLE_LINE_TEXT", required=True), "") == {"record.f.value": ["Required."]}
    assert check(field("CHECK_BOX", required=True), []) == {"record.f.values": ["Required."]}
    assert check(field("FILE", required=True), []) == {"record.f.values": ["Required."]}
    assert check(field("USER_SELECT", required=True), []) == {
        "record.f.values.value": ["Required."]}
    assert check(field("DATE", required=True), None) == {"record.f.value": ["Required."]}
    assert check(field("RADIO_BUTTON", required=True), "") == {}  # not enforced
    assert check(field("SINGLE_LINE_TEXT", required=True), "x") == {}


def test_length_messages_quote_the_first_invalid_length() -> None:
    fd = field("SINGLE_LINE_TEXT", maxLength="5", minLength="2")
    assert check(fd, "123456") == {"record.f.value": ["Enter less than 6 characters."]}
    assert check(fd, "1") == {"record.f.value": ["Enter more than 1 characters."]}
    assert check(fd, "") == {"record.f.value": ["Enter more than 1 characters."]}
    assert check(fd, "12345") == {}
    assert check(field("SINGLE_LINE_TEXT", maxLength="", minLength=""), "x" * 100) == {}


def test_number_range() -> None:
    fd = field("NUMBER", maxValue="100", minValue="10")
    assert check(fd, "150") == {"record.f.value": ["The value must be 100 or less."]}
    assert check(fd, "5") == {"record.f.value": ["The value must be 10 or more."]}
    assert check(fd, "") == {}
    assert check(fd, "10") == {}


def test_options() -> None:
    options = {"A": {"label": "A", "index": "0"}, "B": {"label": "B", "index": "1"}}
    assert check(field("RADIO_BUTTON", options=options), "Z") == {
        "record.f.value": ['The value, "Z", is not in options.']}
    assert check(field("DROP_DOWN", options=options), None) == {}
    assert check(field("CHECK_BOX", options=options), ["A", "X", "B", "Y"]) == {
        "record.f.values[1].value": ['The value, "X", is not in options.'],
        "record.f.values[3].value": ['The value, "Y", is not in options.'],
    }


def test_web_link_format() -> None:
    fd = field("LINK", protocol="WEB", minLength="3")
    assert check(fd, "https://example.com/a?b=c") == {}
    assert check(fd, "a") == {"record.f.value": [
        "Enter more than 2 characters.", "Invalid URL format."]}
    assert check(field("LINK", protocol="MAIL"), "someone@example.com") == {}


# -- defaults


def test_plain_defaults(ctx: Ctx) -> None:
    p = Precision()
    assert default_value(ctx, field("SINGLE_LINE_TEXT", defaultValue="hi"), p) == "hi"
    assert default_value(ctx, field("NUMBER", defaultValue="1.50"), p) == "1.5"
    assert default_value(ctx, field("NUMBER", defaultValue=""), p) == ""
    assert default_value(ctx, field("CHECK_BOX", defaultValue=["A"]), p) == ["A"]
    assert default_value(ctx, field("DROP_DOWN", defaultValue=""), p) is None
    assert default_value(ctx, field("DATE", defaultValue="2020-01-15"), p) == "2020-01-15"
    assert default_value(ctx, field("DATETIME", defaultValue="2012-07-19T00:00Z"), p) == \
        "2012-07-19T00:00:00Z"
    assert default_value(ctx, field("FILE"), p) == []


def test_now_defaults_use_the_callers_time_zone(ctx: Ctx) -> None:
    p = Precision()
    assert default_value(ctx, field("DATE", defaultNowValue=True), p) == "2024-05-02"
    assert default_value(ctx, field("TIME", defaultNowValue=True), p) == "07:30"
    assert default_value(ctx, field("DATETIME", defaultNowValue=True), p) == "2024-05-01T22:30:00Z"


def test_entity_defaults_and_functions(ctx: Ctx) -> None:
    p = Precision()
    users = field("USER_SELECT", defaultValue=[
        {"code": "LOGINUSER()", "type": "FUNCTION"}, {"code": "ghost", "type": "USER"},
        {"code": "sales", "type": "ORGANIZATION"}])
    assert default_value(ctx, users, p) == [{"code": "alice", "name": "Alice Ito"}]
    orgs = field("ORGANIZATION_SELECT", defaultValue=[
        {"code": "PRIMARY_ORGANIZATION()", "type": "FUNCTION"}])
    assert default_value(ctx, orgs, p) == [{"code": "sales", "name": "Sales"}]
    token_ctx = Ctx(sandbox=ctx.sandbox, caller=Caller())
    assert default_value(token_ctx, users, p) == []


# -- read shaping


def make_app(code: str = "", *, process: bool = False) -> App:
    props = system_properties() | {
        "title": {"type": "SINGLE_LINE_TEXT", "code": "title"},
        "due": {"type": "DATE", "code": "due"},
        "layout_group": {"type": "GROUP", "code": "layout_group"},
        "items": {"type": "SUBTABLE", "code": "items", "fields": {
            "qty": {"type": "NUMBER", "code": "qty"},
            "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku"}}},
    }
    status = {"enable": process, "states": None, "actions": None}
    settings = {"properties": props, "layout": [], "views": {}, "settings": {},
                "status": status, "revision": 1}
    return App(id=1, code=code, space_id=None, deployed=True, info={}, settings=settings)


DATA = {
    "title": "Widget",
    "Created_by": {"code": "alice", "name": "Alice Ito"},
    "items": [{"id": "7", "value": {"qty": "2"}}],
    "Status": "Open",
}


def test_typed_record_full() -> None:
    record = typed_record(make_app(), 42, 3, DATA)
    assert record["$id"] == {"type": "__ID__", "value": "42"}
    assert record["$revision"] == {"type": "__REVISION__", "value": "3"}
    assert record["Record_number"] == {"type": "RECORD_NUMBER", "value": "42"}
    assert record["title"] == {"type": "SINGLE_LINE_TEXT", "value": "Widget"}
    assert record["due"] == {"type": "DATE", "value": None}  # missing in data: the empty value
    assert record["items"] == {"type": "SUBTABLE", "value": [{"id": "7", "value": {
        "qty": {"type": "NUMBER", "value": "2"},
        "sku": {"type": "SINGLE_LINE_TEXT", "value": ""}}}]}
    assert "layout_group" not in record
    assert not {"Status", "Assignee", "Categories", "qty"} & set(record)


def test_typed_record_feature_fields_and_app_code() -> None:
    record = typed_record(make_app("SALES", process=True), 42, 3, DATA)
    assert record["Record_number"]["value"] == "SALES-42"
    assert record["Status"] == {"type": "STATUS", "value": "Open"}
    assert record["Assignee"] == {"type": "STATUS_ASSIGNEE", "value": []}
    assert "Categories" not in record


def test_typed_record_restricted_to_fields() -> None:
    record = typed_record(make_app(), 42, 3, DATA, ["title", "nope", "$id"])
    assert set(record) == {"title", "$id"}
    record = typed_record(make_app(), 42, 3, DATA, ["sku"])
    assert record == {"items": {"type": "SUBTABLE", "value": [{"id": "7", "value": {
        "sku": {"type": "SINGLE_LINE_TEXT", "value": ""}}}]}}
    assert typed_record(make_app(), 42, 3, DATA, []) == {}
