"""The OASIS OData ABNF test cases for $filter, $orderby, $select and query options.

Every valid case must either parse or be refused with 501 (a documented unsupported construct);
every invalid case must be refused with 400.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.odata.errors import ODataError
from gateway.odata.options import parse_options, split_query

# OASIS's test cases, kept in the repository: see tests/reference/README.md.
CASES_FILE = Path(__file__).resolve().parents[1] / "reference" / "odata-abnf-testcases.yaml"
RULES = {"filter", "boolCommonExpr", "commonExpr", "orderby", "select", "queryOptions"}
EXPRESSION_RULES = {"boolCommonExpr", "commonExpr"}
# Syntactically valid, refused on purpose for a protocol reason: input -> (status, reason).
DEVIATIONS = {
    "$format=json&$Format=atom&$format=xml&$format=text/html": (
        400, "a system query option given more than once is a bad request"),
    "$format=JSON&$format=Atom&$format=XML&$format=text/html": (
        400, "a system query option given more than once is a bad request"),
    "$format=text/html": (406, "only JSON is served: 406 Not Acceptable"),
    "$search=more&more": (501, "a bare 'more' after $search reads as a custom query option"),
}


def load_cases() -> list[dict]:
    # One input holds a literal tab that PyYAML rejects: use its URL-encoded form.
    text = CASES_FILE.read_text(encoding="utf-8")
    text = text.replace("$orderby=Name\tasc", "$orderby=Name%09asc")
    cases = yaml.load(text, Loader=yaml.BaseLoader)["TestCases"]
    return [case for case in cases if case["Rule"] in RULES]


CASES = load_cases()


def outcome(case: dict) -> int:
    """200 when the options parse, else the status the gateway answers with."""
    raw = case["Input"]
    if case["Rule"] in EXPRESSION_RULES:
        raw = "$filter=" + raw
    try:
        parse_options(split_query(raw))
    except ODataError as exc:
        return exc.status
    return 200


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['Rule']}:{c['Name']}")
def test_abnf_case(case):
    status = outcome(case)
    if case["Input"] in DEVIATIONS:
        assert status == DEVIATIONS[case["Input"]][0]
    elif "FailAt" in case:
        assert status == 400, case["Input"]
    else:
        assert status in (200, 501), case["Input"]


def test_a_one_item_in_list_is_a_list():
    options = parse_options(split_query("$filter=Name%20in%20('a)b')"))
    assert [item.val for item in options.filter.right.val] == ["a)b", "a)b"]
