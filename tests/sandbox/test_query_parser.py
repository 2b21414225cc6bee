"""Parsing of the Kintone query language (syntax only; field semantics are compiler tests)."""

from __future__ import annotations

import pytest

from gateway.sandbox.errors import KintoneError
from gateway.sandbox.query import (
    And,
    Call,
    Num,
    Or,
    Predicate,
    Query,
    SortKey,
    Str,
    parse_query,
)


def where(text: str):
    return parse_query(text).where


def syntax_error(text: str, lang: str = "en") -> KintoneError:
    with pytest.raises(KintoneError) as info:
        parse_query(text, lang=lang)
    return info.value


# -- structure ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\t\r\n\u3000"])
def test_empty_query(text: str) -> None:
    assert parse_query(text) == Query()


def test_comparison_operators() -> None:
    for op in ("=", "!=", ">", "<", ">=", "<="):
        assert where(f"price {op} 10") == Predicate("price", op, (Num("10"),))


def test_operators_without_spaces() -> None:
    assert where('price>=10 and title="a"') == And(
        (Predicate("price", ">=", (Num("10"),)), Predicate("title", "=", (Str("a"),)))
    )


def test_in_not_in_like_empty() -> None:
    assert where('s in ("A", 2, "")') == Predicate("s", "in", (Str("A"), Num("2"), Str("")))
    assert where('s not in ("A")') == Predicate("s", "not in", (Str("A"),))
    assert where('t like "x"') == Predicate("t", "like", (Str("x"),))
    assert where('t not like "x"') == Predicate("t", "not like", (Str("x"),))
    assert where("m is empty") == Predicate("m", "is empty")
    assert where("m is not empty") == Predicate("m", "is not empty")


def test_keywords_are_case_insensitive() -> None:
    text = (
        'a IN ("x") AND b Not In ("y") Or c NOT LIKE "z" OR d IS NOT EMPTY '
        "ORDER BY a DESC LIMIT 5"
    )
    query = parse_query(text)
    assert query.where == Or(
        (
            And((Predicate("a", "in", (Str("x"),)), Predicate("b", "not in", (Str("y"),)))),
            Predicate("c", "not like", (Str("z"),)),
            Predicate("d", "is not empty"),
        )
    )
    assert query.order_by == (SortKey("a", True),)
    assert query.limit == 5


def test_and_binds_tighter_than_or() -> None:
    a, b, c = (Predicate(x, "=", (Num("1"),)) for x in "abc")
    assert where("a = 1 or b = 1 and c = 1") == Or((a, And((b, c))))
    assert where("a = 1 and b = 1 or c = 1") == Or((And((a, b)), c))
    assert where("(a = 1 or b = 1) and c = 1") == And((Or((a, b)), c))


def test_nested_groups_of_the_same_kind_are_flattened() -> None:
    a, b, c = (Predicate(x, "=", (Num("1"),)) for x in "abc")
    assert where("a = 1 and (b = 1 and c = 1)") == And((a, b, c))
    assert where("(a = 1 or b = 1) or c = 1") == Or((a, b, c))
    assert where("((a = 1))") == a


def test_whitespace_variants_between_tokens() -> None:
    assert where('title\u3000=\t"a"\r\nand\nprice\r>\u30001') == And(
        (Predicate("title", "=", (Str("a"),)), Predicate("price", ">", (Num("1"),)))
    )


def test_field_codes() -> None:
    assert where("$id > 3") == Predicate("$id", ">", (Num("3"),))
    assert where('顧客名 = "a"') == Predicate("顧客名", "=", (Str("a"),))
    assert where('文字列__1行_ like "a"').field == "文字列__1行_"
    assert where('Ref.name in ("a")').field == "Ref.name"


def test_numbers_quoted_or_not() -> None:
    assert where("price in (10, -2, 20.5)").values == (Num("10"), Num("-2"), Num("20.5"))
    assert where('price > "10"').values == (Str("10"),)


# -- strings -----------------------------------------------------------------------------------


def test_string_escapes() -> None:
    assert where(r'name = "He said \"hi\" \\ bye"').values == (Str('He said "hi" \\ bye'),)
    assert where(r'name = "a\tb\nc\rd"').values == (Str("a\tb\nc\rd"),)
    assert where('name = "a b\u3000c"').values == (Str("a b\u3000c"),)
    assert where('name = ""').values == (Str(""),)


def test_string_keeps_query_syntax_as_data() -> None:
    text = r'name = "\") or $id > \"0"'
    assert parse_query(text).where == Predicate("name", "=", (Str('") or $id > "0'),))


@pytest.mark.parametrize("raw", ["\t", "\n", "\r"])
def test_raw_control_character_in_literal_is_a_syntax_error(raw: str) -> None:
    assert syntax_error(f'name = "a{raw}b"').code == "CB_VA01"


@pytest.mark.parametrize("text", [r'name = "a\x"', 'name = "abc', 'name = "a\\', "name = 'a'"])
def test_bad_strings(text: str) -> None:
    assert syntax_error(text).code == "CB_VA01"


# -- functions ---------------------------------------------------------------------------------


def test_functions() -> None:
    assert where("d = TODAY()").values == (Call("TODAY"),)
    assert where("d > FROM_TODAY(-7, DAYS)").values == (Call("FROM_TODAY", ("-7", "DAYS")),)
    assert where("d = THIS_WEEK(MONDAY)").values == (Call("THIS_WEEK", ("MONDAY",)),)
    assert where("d = THIS_MONTH(LAST)").values == (Call("THIS_MONTH", ("LAST",)),)
    assert where('u in (LOGINUSER(), "bob")').values == (Call("LOGINUSER"), Str("bob"))


@pytest.mark.parametrize(
    "text",
    [
        "d = today()",  # function names are upper-case
        "d = UNKNOWN()",
        "d = TODAY",
        'd = THIS_WEEK("MONDAY")',
        "d = FROM_TODAY(1,, DAYS)",
        "d = TODAY(",
    ],
)
def test_bad_function_syntax(text: str) -> None:
    assert syntax_error(text).code == "CB_VA01"


# -- options -----------------------------------------------------------------------------------


def test_options() -> None:
    assert parse_query('a = "x" order by b asc, c desc, $id limit 10 offset 20') == Query(
        Predicate("a", "=", (Str("x"),)),
        (SortKey("b"), SortKey("c", True), SortKey("$id")),
        10,
        20,
    )
    assert parse_query("order by $id asc limit 500") == Query(None, (SortKey("$id"),), 500)
    assert parse_query("limit 0") == Query(limit=0)
    assert parse_query("offset 5") == Query(offset=5)
    assert parse_query("limit -1").limit == -1  # range checks belong to the compiler


def test_fields_named_like_keywords() -> None:
    assert where("limit = 5") == Predicate("limit", "=", (Num("5"),))
    assert where('order in ("a")') == Predicate("order", "in", (Str("a"),))
    assert parse_query("limit > 1 limit 1") == Query(Predicate("limit", ">", (Num("1"),)), (), 1)


@pytest.mark.parametrize(
    "text",
    [
        "limit 5 order by $id",
        "offset 5 limit 5",
        "limit 5 limit 5",
        "order by",
        "order by $id limit",
        "limit 1.5",
        'limit "5"',
        "order by a,",
    ],
)
def test_bad_options(text: str) -> None:
    assert syntax_error(text).code == "CB_VA01"


# -- syntax errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "title",
        'title "a"',
        'title == "a"',
        'title ! "a"',
        'title = "a" and',
        'and title = "a"',
        '(title = "a"',
        'title = "a")',
        "s in ()",
        's in ("a",)',
        's in "a"',
        "t like 5",
        "t like",
        "m is",
        "m is not",
        "m is null",
        's not ("a")',
        'title = "a" title = "b"',
        "title = status",
    ],
)
def test_syntax_errors(text: str) -> None:
    error = syntax_error(text)
    assert error.code == "CB_VA01"
    assert error.errors == {"query": ["The query syntax is incorrect."]}


def test_syntax_error_message_is_localised() -> None:
    assert syntax_error("(", lang="ja").errors == {"query": ["クエリ記法が間違っています。"]}


def test_parenthesis_nesting_is_limited() -> None:
    deep = "(" * 100 + "a = 1" + ")" * 100
    assert where(deep) == Predicate("a", "=", (Num("1"),))
    assert syntax_error("(" * 101 + "a = 1" + ")" * 101).code == "CB_VA01"
    assert syntax_error("(" * 5000).code == "CB_VA01"
