"""OData $filter semantics over gateway-shaped entities (the residual the gateway checks)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
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
        matches(parse_filter("Due add duration'P1D' eq 2024-05-02"), ENTITY)
    assert info.value.status == 501
    with pytest.raises(ODataError) as info:
        matches(parse_filter("Due gt 5"), ENTITY)
    assert info.value.status == 400
