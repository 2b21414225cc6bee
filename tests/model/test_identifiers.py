"""OData identifiers by Unicode category in $filter, $orderby and $select (parser level)."""

from __future__ import annotations

import re
import unicodedata

import pytest

from gateway.model.identifiers import IDENTIFIER
from gateway.odata.errors import ODataError
from gateway.odata.options import parse_options

VALID = ["優先度", "_内部", "ｶﾀｶﾅ＿１", "カ\u3099ナ", "a\u0301b", "x\u200dy", "ⅫSet", "𠮷野家",
         "担当者_2", "顧客ｺｰﾄﾞ", "A" * 128]
INVALID = ["1abc", "・点", "a-b", "\u0301a", "名" * 129, "１番"]


@pytest.mark.parametrize("name", VALID)
def test_valid_names_parse_in_every_option(name):
    options = parse_options([("$filter", f"{name} eq 1 and startswith({name},'x')"),
                             ("$orderby", f"{name} desc"), ("$select", name)])
    assert options.filter.left.left.name == name
    assert options.orderby[0].path == name and options.orderby[0].descending
    assert options.select == (name,)


@pytest.mark.parametrize("name", INVALID)
def test_invalid_names_are_400(name):
    with pytest.raises(ODataError) as caught:
        parse_options([("$filter", f"{name} eq 1")])
    assert caught.value.status == 400


def test_the_pattern_follows_the_abnf_categories():
    """Every character of the first 0x3100 code points is judged as the ABNF's categories say."""
    start = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nl"}
    part = start | {"Nd", "Mn", "Mc", "Pc", "Cf"}
    for code in range(0x3100):
        char = chr(code)
        category = unicodedata.category(char)
        assert bool(re.fullmatch(IDENTIFIER, char)) == (category in start or char == "_"), code
        assert bool(re.fullmatch(IDENTIFIER, "a" + char)) == (category in part), code
