"""Query literals: no value can leave its string literal; codes and orders are checked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.kintone import quote
from gateway.kintone.query import field, order_by, where
from gateway.sandbox.query.lexer import Token, tokenize
from tests.kintone.conftest import FIELDS

NASTY = ['say "hi"', "back\\slash", 'end\\"', "tab\there", "two\nlines", "cr\rlf",
         '") or title != ("', "\\", '"', "", "日本語　全角", "x\\\\\\\""]
ALLOWED = st.text(st.characters(exclude_categories=["Cs"]).filter(
    lambda c: c in "\t\n\r" or not (ord(c) < 0x20 or ord(c) == 0x7F)))


@given(ALLOWED)
def test_a_quoted_value_is_exactly_one_string_token(value):
    tokens = tokenize(f"title = {quote(value)} and price > 1")
    assert tokens == [Token("WORD", "title"), Token("OP", "="), Token("STR", value),
                      Token("WORD", "and"), Token("WORD", "price"), Token("OP", ">"),
                      Token("NUM", "1")]


@pytest.mark.parametrize("value", ["nul\x00", "bell\x07", "esc\x1b", "del\x7f"])
def test_control_characters_without_an_escape_are_refused(value):
    with pytest.raises(ValueError, match="control character"):
        quote(value)


def test_quoted_values_find_exactly_their_record(client, extension):
    rows = [{"title": {"value": v}} for v in NASTY if "\n" not in v and "\r" not in v]
    app = extension("apps", {"name": "Quotes", "fields": FIELDS, "records": rows})["app"]
    for n, row in enumerate(rows, 1):
        page = client.get_records(app, f"title = {quote(row['title']['value'])}")
        assert [r["$id"]["value"] for r in page.records] == [str(n)], row


def test_field_codes_and_orders():
    assert order_by([("price", "DESC"), ("$id", "asc")]) == "order by price desc, $id asc"
    assert order_by([]) == ""
    for bad in ["a b", "a,b", "a)", 'a"', "", "a=b"]:
        with pytest.raises(ValueError):
            field(bad)


def test_where_parenthesises_each_part():
    assert where("a = 1 or b = 2", "$id > 5") == "(a = 1 or b = 2) and ($id > 5)"
    assert where("a = 1 or b = 2") == "a = 1 or b = 2"
    assert where("", "$id > 5") == "$id > 5"
    assert where("  ") == ""
