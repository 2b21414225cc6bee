"""OData $filter semantics over gateway-shaped entities (the residual the gateway checks)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from gateway.odata.errors import ODataError
from gateway.odata.evaluate import matches
from gateway.odata.syntax import parse_filter

ENTITY = {
    "Id": 7,
    "Title": "Widget Pro",
    "Empty": None,
    "Price": Decimal("12.50"),
    "Qty": 3,
    "Due": date(2024, 5, 1),
    "At": time(9, 30),
    "When": datetime(2024, 5, 1, 3, 12, tzinfo=UTC),
    "Tags": ["x", "y"],
    "NoTags": [],
    "Users": [{"Code": "alice", "Name": "Alice Ito"}, {"Code": "bob", "Name": "Bob Sato"}],
    "Creator": {"Code": "alice", "Name": "Alice Ito"},
    "Items": [{"RowId": 1, "Sku": "A-1", "Qty": Decimal(2)},
              {"RowId": 2, "Sku": "B-2", "Qty": None}],
    "Flag": True,
}


def check(cases: list[tuple[str, bool]]) -> None:
    wrong = [(text, want) for text, want in cases if matches(parse_filter(text), ENTITY) != want]
    assert not wrong, wrong


def test_comparisons() -> None:
    check([
        ("Id eq 7", True), ("Id ne 7", False), ("Id gt 6", True), ("Id ge 7", True),
        ("Id lt 7", False), ("Id le 7", True), ("6 lt Id", True),
        ("Price eq 12.5", True), ("Price gt 12", True), ("Price lt 12.5", False),
        ("Title eq 'Widget Pro'", True), ("Title eq 'widget pro'", False),
        ("Title gt 'Widget'", True), ("Title lt 'A'", False),
        ("Due eq 2024-05-01", True), ("Due lt 2024-05-02", True),
        ("At ge 09:30:00", True), ("At gt 09:30:00", False),
        ("When eq 2024-05-01T12:12:00+09:00", True), ("When gt 2024-05-01T03:12:00Z", False),
        ("Id in (1, 7)", True), ("Title in ('a', 'b')", False), ("Empty in ('a', null)", True),
        ("Flag eq true", True), ("Flag", True), ("not Flag", False),
    ])


def test_null_semantics() -> None:
    check([
        ("Empty eq null", True), ("Empty ne null", False), ("Title eq null", False),
        ("Title ne null", True), ("Empty ne 'x'", True), ("Empty eq 'x'", False),
        ("Empty gt 'a'", False), ("Empty lt 'a'", False), ("not (Empty gt 'a')", True),
        ("null eq null", True), ("Empty eq Empty", True),
        # Functions propagate null; not null is null, which does not match.
        ("contains(Empty, 'x')", False), ("not contains(Empty, 'x')", False),
        ("length(Empty) eq null", True), ("Qty add null eq null", True),
        # Three-valued and/or.
        ("contains(Empty, 'x') or Id eq 7", True), ("contains(Empty, 'x') and Id eq 7", False),
        ("not (contains(Empty, 'x') and Id eq 8)", True),
        ("not (contains(Empty, 'x') or Id eq 8)", False),
    ])


def test_arithmetic() -> None:
    check([
        ("Qty add 2 eq 5", True), ("Qty sub 5 eq -2", True), ("Qty mul 2 eq 6", True),
        ("Qty div 2 eq 1", True), ("-7 div 2 eq -3", True), ("Price div 2 eq 6.25", True),
        ("Qty mod 2 eq 1", True), ("-7 mod 2 eq -1", True), ("Price mod 5 eq 2.5", True),
        ("-Qty eq -3", True), ("Qty div 0 eq null", True),
    ])


def test_string_functions() -> None:
    check([
        ("contains(Title, 'get P')", True), ("contains(Title, 'pro')", False),
        ("startswith(Title, 'Wid')", True), ("endswith(Title, 'Pro')", True),
        ("length(Title) eq 10", True), ("indexof(Title, 'Pro') eq 7", True),
        ("indexof(Title, 'zz') eq -1", True),
        ("substring(Title, 7) eq 'Pro'", True), ("substring(Title, 0, 3) eq 'Wid'", True),
        ("substring(Title, 20) eq ''", True),
        ("tolower(Title) eq 'widget pro'", True), ("toupper(Title) eq 'WIDGET PRO'", True),
        ("trim(concat('  ', Title)) eq 'Widget Pro'", True),
        ("concat(Title, '!') eq 'Widget Pro!'", True),
    ])


def test_date_functions_and_rounding() -> None:
    check([
        ("year(Due) eq 2024", True), ("month(Due) eq 5", True), ("day(Due) eq 1", True),
        ("year(When) eq 2024", True), ("hour(When) eq 3", True), ("minute(When) eq 12", True),
        ("second(When) eq 0", True), ("hour(At) eq 9", True), ("minute(At) eq 30", True),
        ("date(When) eq 2024-05-01", True), ("time(When) eq 03:12:00", True),
        ("round(Price) eq 13", True), ("floor(Price) eq 12", True), ("ceiling(Price) eq 13", True),
        ("round(-2.5) eq -3", True),
    ])


def test_lambdas() -> None:
    check([
        ("Tags/any(t: t eq 'x')", True), ("Tags/any(t: t eq 'z')", False),
        ("Tags/all(t: t in ('x', 'y'))", True), ("Tags/all(t: t eq 'x')", False),
        ("Tags/any()", True), ("NoTags/any()", False), ("NoTags/all(t: t eq 'x')", True),
        ("Users/any(u: u/Code eq 'bob')", True), ("Users/any(u: u/Name eq 'bob')", False),
        ("Creator/Code eq 'alice'", True), ("Creator/Name eq 'alice'", False),
        ("Items/any(i: i/Qty gt 1 and i/Sku eq 'A-1')", True),
        ("Items/any(i: i/Qty gt 1 and i/Sku eq 'B-2')", False),
        ("Items/all(i: i/Qty gt 1)", False), ("Items/any(i: i/Qty eq null)", True),
        # The lambda variable is visible in nested lambdas, and the entity's properties too.
        ("Items/any(i: Tags/any(t: t eq 'x' and i/RowId eq 2))", True),
        ("Items/any(i: i/RowId eq Id sub 5)", True),
        ("Missing eq null", True),
    ])


def test_unsupported() -> None:
    with pytest.raises(ODataError) as info:
        matches(parse_filter("totalseconds(At) eq 1"), ENTITY)
    assert info.value.status == 501
    with pytest.raises(ODataError) as info:
        matches(parse_filter("Due add duration'P1M' eq 2024-05-02"), ENTITY)
    assert info.value.status == 400  # months have no fixed length: not an Edm.Duration
    with pytest.raises(ODataError) as info:
        matches(parse_filter("Due gt 5"), ENTITY)
    assert info.value.status == 400


def test_date_and_duration_arithmetic() -> None:
    # The entity's values: Due 2024-05-01, When 2024-05-01T03:12Z.
    check([
        ("Due add duration'P1D' eq 2024-05-02", True),
        ("Due sub duration'P31D' eq 2024-03-31", True),
        ("duration'P1D' add Due eq 2024-05-02", True),
        ("Due add duration'PT1H' eq 2024-05-01", False),  # a date plus an hour is null
        ("Due add duration'PT1H' eq null", True),
        ("When add duration'PT48M' eq 2024-05-01T04:00:00Z", True),
        ("When sub duration'-P1DT0.5S' eq 2024-05-02T03:12:00.5Z", True),
        ("When sub 2024-04-30T03:12:00Z eq duration'P1D'", True),
        ("When sub When eq duration'PT0S'", True),
        ("Due sub 2024-04-01 eq duration'P30D'", True),
        ("Due sub 2024-04-01 gt duration'P29DT23H'", True),
        ("duration'P1D' add duration'PT12H' eq duration'PT36H'", True),
        ("Empty add duration'P1D' eq null", True),
        ("maxdatetime() add duration'P2D' eq null", True),  # beyond the range: null
    ])


def test_request_time_constants() -> None:
    before = datetime.now(UTC)
    tree = parse_filter("When lt now() and now() sub duration'PT1M' lt now()")
    moment = datetime.fromisoformat(tree.left.right.val.replace("Z", "+00:00"))
    assert before <= moment <= datetime.now(UTC)
    check([
        ("When gt mindatetime() and When lt maxdatetime()", True),
        ("When gt now()", False),
        ("mindatetime() lt 1000-01-01T00:00:00Z", True),
        ("maxdatetime() eq 9999-12-30T23:59:59.999999Z", True),
    ])


def test_fractional_seconds_and_offsets() -> None:
    entity = {**ENTITY, "When": datetime(2024, 5, 1, 3, 12, 5, 250000, tzinfo=UTC),
              "At": time(9, 30, 1, 500000),
              "Local": datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=9)))}
    cases = [
        ("fractionalseconds(When) eq 0.25", True), ("fractionalseconds(At) eq 0.5", True),
        ("fractionalseconds(2024-05-01T00:00:00Z) eq 0", True),
        ("totaloffsetminutes(When) eq 0", True), ("totaloffsetminutes(Local) eq 540", True),
        ("totaloffsetminutes(2024-05-01T00:00:00-05:30) eq -330", True),
        ("fractionalseconds(Empty) eq null", True),
    ]
    wrong = [(t, w) for t, w in cases if matches(parse_filter(t), entity) != w]
    assert not wrong, wrong


def test_cast_to_primitive_types() -> None:
    check([
        ("cast(Price, Edm.String) eq '12.50'", True),
        ("cast(Qty, Edm.String) eq '3'", True),
        ("cast(Flag, Edm.String) eq 'true'", True),
        ("cast(Due, Edm.String) eq '2024-05-01'", True),
        ("cast(When, Edm.String) eq '2024-05-01T03:12:00Z'", True),
        ("cast(When, Edm.Date) eq 2024-05-01", True),
        ("cast(Due, Edm.DateTimeOffset) eq 2024-05-01T00:00:00Z", True),
        ("cast(When, Edm.TimeOfDay) eq 03:12:00", True),
        ("cast(Price, Edm.Int32) eq null", True),  # 12.5 is no integer
        ("cast(Qty, Edm.Decimal) eq 3", True),
        ("cast('42', Edm.Int64) eq 42", True),
        ("cast('4x', Edm.Int64) eq null", True),
        ("cast('300', Edm.Byte) eq null", True),
        ("cast('TRUE', Edm.Boolean) eq true", True),
        ("cast('2024-05-01', Edm.Date) eq Due", True),
        ("cast(Empty, Edm.String) eq null", True),
        ("cast(Title, Edm.String) eq Title", True),
    ])


def test_collection_counts() -> None:
    check([
        ("Items/$count eq 2", True), ("Tags/$count gt 1", True), ("NoTags/$count eq 0", True),
        ("Items/$count add Tags/$count eq 4", True),
        ("Items/any(i: i/Qty eq Items/$count)", True),
    ])
