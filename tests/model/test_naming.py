"""Identifier rules: validity, sanitising, uniqueness."""

from __future__ import annotations

import pytest

from gateway.model.naming import (
    MAX_LENGTH,
    RESERVED_SET_NAMES,
    NameRegistry,
    from_code,
    from_label,
    is_identifier,
)


@pytest.mark.parametrize("name", ["Id", "_x", "顧客名", "ｶﾅ", "単価＿税込", "Ⅻ月", "a1", "x" * 128])
def test_valid_identifiers(name):
    assert is_identifier(name)


@pytest.mark.parametrize(
    "name", ["", "1a", "a b", "a・b", "a-b", "$id", "＿x", "a.b", "金額（円）", "x" * 129]
)
def test_invalid_identifiers(name):
    assert not is_identifier(name)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("title", "title"),  # valid codes are kept verbatim, case included
        ("顧客名", "顧客名"),  # Japanese is valid: kept, not transliterated
        ("単価・税込", "単価_税込"),
        ("金額（円）", "金額_円"),
        ("order date", "order_date"),
        ("2nd_step", "_2nd_step"),
        ("＿memo", "_＿memo"),  # fullwidth low line may follow but not start
        ("＄＄", "Field"),
    ],
)
def test_from_code(code, expected):
    assert from_code(code) == expected
    assert is_identifier(from_code(code))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("support tickets", "SupportTickets"),
        ("Orders", "Orders"),
        ("CRM app", "CRMApp"),
        ("顧客管理", "顧客管理"),
        ("案件・見積", "案件見積"),
        ("営業 pipeline", "営業Pipeline"),
        ("2024 budget", "_2024Budget"),
        ("!!!", "App7"),
    ],
)
def test_from_label(text, expected):
    assert from_label(text, fallback="App7") == expected


def test_long_names_are_cut_to_the_limit():
    assert from_label("word " * 60, fallback="X") == ("Word" * 60)[:MAX_LENGTH]


def test_registry_ignores_case_and_suffixes_deterministically():
    names = NameRegistry(RESERVED_SET_NAMES)
    assert names.claim("Sales", suffix="3") == "Sales"
    assert names.claim("sales", suffix="9") == "sales_9"
    assert names.claim("Sales", suffix="9") == "Sales_9_2"
    assert names.claim("Apps", suffix="4") == "Apps_4"
    assert names.claim("Mention") == "Mention_2"


def test_suffix_keeps_within_the_length_limit():
    names = NameRegistry()
    long = "x" * MAX_LENGTH
    assert names.claim(long) == long
    second = names.claim(long, suffix="12")
    assert second.endswith("_12") and len(second) == MAX_LENGTH


def test_claim_exact_refuses_invalid_and_taken_names():
    names = NameRegistry(frozenset({"Id"}))
    assert not names.claim_exact("id")
    assert not names.claim_exact("a b")
    assert names.claim_exact("顧客")
    assert not names.claim_exact("顧客")


def test_claim_all_gives_verbatim_wishes_before_suffixed_ones():
    names = NameRegistry(frozenset({"Id"}))
    wishes = [("Id", "Id", None), ("Id_2", "Id_2", None), ("x", "x", None)]
    assert names.claim_all(wishes) == {"Id": "Id_3", "Id_2": "Id_2", "x": "x"}
