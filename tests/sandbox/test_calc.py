"""Unit tests of the calculation-formula engine (gateway.sandbox.calc)."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from gateway.sandbox.calc import CalcError, check_expression, compute_fields, evaluate
from gateway.sandbox.errors import KintoneError
from gateway.sandbox.fields import Form
from gateway.sandbox.values import Precision

UTC_ZONE = ZoneInfo("UTC")


def calc(code: str, expression: str, fmt: str = "NUMBER") -> dict:
    return {"type": "CALC", "code": code, "expression": expression, "format": fmt}


FORM = Form(
    {
        "a": {"type": "NUMBER", "code": "a"},
        "b": {"type": "NUMBER", "code": "b"},
        "d": {"type": "DATE", "code": "d"},
        "dt": {"type": "DATETIME", "code": "dt"},
        "t": {"type": "TIME", "code": "t"},
        "name": {"type": "SINGLE_LINE_TEXT", "code": "name"},
        "stage": {"type": "DROP_DOWN", "code": "stage"},
        "tags": {"type": "CHECK_BOX", "code": "tags"},
        "link": {"type": "LINK", "code": "link"},
        "items": {
            "type": "SUBTABLE",
            "code": "items",
            "fields": {
                "qty": {"type": "NUMBER", "code": "qty"},
                "price": {"type": "NUMBER", "code": "price"},
                "line": calc("line", "qty * price"),
            },
        },
        "total": calc("total", "SUM(line)"),
        "taxed": calc("taxed", "total * 1.1"),
        "label": {"type": "SINGLE_LINE_TEXT", "code": "label", "expression": 'name & ": " & a'},
    }
)


def ev(expression: str, **data: object) -> object:
    return evaluate(expression, FORM, data)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("10 + 3", "13"),
        ("10 - 3", "7"),
        ("7 * 0.1", "0.7"),
        ("100 * 0.1", "10.0"),
        ("1 / 3", "0.3333"),
        ("10 / 3", "3.3333"),
        ("1 / 7", "0.1429"),
        ("2 ^ 10", "1024"),
        ("4 ^ 1.5", "4"),  # the exponent's fraction is dropped
        ("4 ^ -2", "0.0625"),
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("-2 + 5", "3"),
        ("2 * 3 ^ 2", "18"),
    ],
)
def test_arithmetic(expression: str, expected: str) -> None:
    assert ev(expression) == Decimal(expected)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 = 1", 1), ("1 != 1", 0), ("1 <> 2", 1), ("2 > 1", 1), ("2 < 1", 0),
        ("2 >= 2", 1), ("1 <= 0", 0), ('"a" = "a"', 1), ('"a" = "b"', 0),
        ("AND(1, 2 > 1)", 1), ("AND(1, 0)", 0), ("OR(0, 0)", 0), ("OR(0, 1)", 1),
        ("NOT(0)", 1), ("NOT(1 = 1)", 0),
    ],
)
def test_comparisons_and_logic_yield_1_or_0(expression: str, expected: int) -> None:
    assert ev(expression) == expected


def test_functions() -> None:
    assert ev("SUM(1, 2, 3)") == 6
    assert ev("ROUND(3.14159, 2)") == Decimal("3.14")
    assert ev("ROUND(2.5)") == 3
    assert ev("ROUNDUP(3.14159, 2)") == Decimal("3.15")
    assert ev("ROUNDDOWN(3.14159, 2)") == Decimal("3.14")
    assert ev("ROUNDDOWN(-3.149, 1)") == Decimal("-3.1")
    assert ev('IF(a > 10, "big", "small")', a="15") == "big"
    assert ev("IF(b = 0, 0, a / b)", a="1", b="0") == 0  # the other branch is not evaluated
    assert ev('CONTAINS(tags, "x")', tags=["x", "y"]) == 1
    assert ev('CONTAINS(tags, "z")', tags=["x"]) == 0
    assert ev("YEN(1234.5, 0)") == "¥1,235"
    assert ev('DATE_FORMAT(1745574000, "YYYY-MM-dd", "Asia/Tokyo")') == "2025-04-25"
    formatted = ev('DATE_FORMAT(dt, "YYYY/M/d H:mm", "UTC")', dt="2024-05-01T03:04:00Z")
    assert formatted == "2024/5/1 3:04"


def test_concatenation_and_text_references() -> None:
    assert ev('name & "-" & a', name="x", a="1.50") == "x-1.5"
    assert ev('stage = "Won"', stage="Won") == 1
    assert ev('stage = ""', stage=None) == 1


def test_empty_numbers_count_as_zero() -> None:
    assert ev("a + b") == 0
    assert ev("a + b", a="5", b="") == 5


def test_dates_are_epoch_seconds() -> None:
    assert ev("dt - d", dt="2026-04-25T10:00:00Z", d="2026-04-25") == 36000
    assert ev("t", t="01:01") == 3660
    assert ev("d + 1", d=None) is None  # empty dates make the result empty


@pytest.mark.parametrize("expression", ["1 / 0", "0 / 0", "2 ^ 101", "a +", "UNKNOWN(1)", "qty"])
def test_errors_raise(expression: str) -> None:
    with pytest.raises(CalcError):
        ev(expression)


def test_compute_fields_fills_rows_totals_and_chains() -> None:
    data = {
        "a": "7",
        "name": "n",
        "items": [
            {"id": "1", "value": {"qty": "2", "price": "10"}},
            {"id": "2", "value": {"qty": "3", "price": ""}},
            {"id": "3", "value": {"qty": "1", "price": "2.5"}},
        ],
    }
    compute_fields(FORM, data, tz=UTC_ZONE, precision=Precision())
    assert [row["value"]["line"] for row in data["items"]] == ["20", "0", "2.5"]
    assert data["total"] == "22.5"
    assert data["taxed"] == "24.75"
    assert data["label"] == "n: 7"


@pytest.mark.parametrize(
    ("fmt", "expression", "expected"),
    [
        ("NUMBER", "a * 3", "270183"),
        ("NUMBER_DIGIT", "a * 3", "270183"),
        ("DATETIME", "a * 3600", "1980-04-10T13:00:00Z"),
        ("DATE", "a * 3600", "1980-04-10"),
        ("TIME", "a", "01:01"),
        ("HOUR_MINUTE", "a", "25:01"),
        ("DAY_HOUR_MINUTE", "a", "25:01"),
        ("NUMBER", '"text"', ""),  # a text result cannot be a numeric CALC value
        ("NUMBER", "a / 0", ""),
        ("NUMBER", "a ^ 100", ""),  # too many digits for the precision
    ],
)
def test_output_formats(fmt: str, expression: str, expected: str) -> None:
    form = Form({"a": {"type": "NUMBER", "code": "a"}, "c": calc("c", expression, fmt)})
    data = {"a": "90061"}
    compute_fields(form, data, tz=UTC_ZONE, precision=Precision())
    assert data["c"] == expected


def test_calc_result_follows_number_precision() -> None:
    form = Form({"c": calc("c", "1.23456 * 1")})
    data: dict = {}
    compute_fields(form, data, tz=UTC_ZONE, precision=Precision(16, 2))
    assert data["c"] == "1.23"


@pytest.mark.parametrize(
    "expression",
    ["SUM(qty)", 'IF(a > 1, "x", "y")', "ROUND(a)", "a + CONTAINS(tags, \"x\")"],
)
def test_check_expression_accepts(expression: str) -> None:
    check_expression(expression, FORM, "total")


def test_check_expression_allows_row_columns_in_row_formulas() -> None:
    check_expression("qty * price + a", FORM, "line")


@pytest.mark.parametrize(
    "expression",
    [
        "nope + 1",  # unknown field
        "FOO(1)",  # unknown function
        "a +",  # syntax
        "IF(1, 2)",  # argument count
        "link & 1",  # LINK cannot be referenced
        "qty * 2",  # a column outside SUM at top level
        "taxed + 1",  # circular: taxed -> total, total -> taxed
        "a ＋ 1",  # full-width symbol
    ],
)
def test_check_expression_rejects(expression: str) -> None:
    with pytest.raises(KintoneError) as info:
        check_expression(expression, FORM, "total")
    assert info.value.code == "GAIA_IL01"
    assert info.value.args_ == ("total",)
