"""The gateway's answer to random filters equals the same filter evaluated in Python over every
record, end to end over HTTP (gateway → sandbox), with literals chosen to try to break out of
Kintone's query syntax."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.odata.evaluate import matches
from gateway.odata.syntax import parse_filter
from tests.gateway.conftest import follow, values

NASTY = ['"', "\\", '\\"', "' or ''='", '") or $id > "0', "order by", "limit 1", "like", "or",
         "and", "not in", "日本語", " ", "", "a b", "%", "x\"y"]
STAGES = ("Lead", "Won", "Lost")
FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "price": {"type": "NUMBER", "code": "price", "label": "Price"},
    "due": {"type": "DATE", "code": "due", "label": "Due"},
    "stage": {"type": "DROP_DOWN", "code": "stage", "label": "Stage",
              "options": {s: {"label": s, "index": str(i)} for i, s in enumerate(STAGES)}},
    "tags": {"type": "CHECK_BOX", "code": "tags", "label": "Tags",
             "options": {t: {"label": t, "index": str(i)} for i, t in enumerate("xyz")}},
}


def _record(rng: random.Random) -> dict:
    return values(
        title=rng.choice([*NASTY, "alpha", "Alpha", "beta gamma"]),
        price=rng.choice(["", "0", "-3", "10", "10.5", "99"]),
        due=rng.choice(["", "2024-01-31", "2024-02-01", "2025-12-31"]),
        stage=rng.choice([*STAGES, ""]),
        tags=rng.sample(list("xyz"), rng.randint(0, 2)),
    )


@pytest.fixture(scope="module")
def deals(start_gateway, make_app):
    rng = random.Random(20261124)
    app, _ = make_app(FIELDS, [_record(rng) for _ in range(80)], code="DEALS")
    gw = start_gateway([app], page_size=1000)
    every = [_typed(e) for page in follow(gw.get("DEALS")) for e in page["value"]]
    return gw, every


def _typed(entity: dict) -> dict:
    """An entity as the evaluator sees values: JSON numbers and dates back to Python types."""
    price, due = entity["price"], entity["due"]
    return {**entity, "price": None if price is None else Decimal(str(price)),
            "due": None if due is None else date.fromisoformat(due)}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


texts = st.sampled_from([*NASTY, "alpha", "Alpha", "beta", "gamma"])
numbers = st.sampled_from(["0", "-3", "10", "10.5", "99", "1e1"])
dates = st.sampled_from(["2024-01-31", "2024-02-01", "2025-12-31"])
comparisons = st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"])

leaf = st.one_of(
    st.builds(lambda op, v: f"title {op} {_quote(v)}", st.sampled_from(["eq", "ne"]), texts),
    st.builds(lambda f, v: f"{f}(title,{_quote(v)})",
              st.sampled_from(["contains", "startswith", "endswith"]), texts),
    st.builds(lambda op, v: f"price {op} {v}", comparisons, numbers),
    st.builds(lambda op, v: f"due {op} {v}", comparisons, dates),
    st.builds(lambda op, v: f"stage {op} {_quote(v)}", st.sampled_from(["eq", "ne"]),
              st.sampled_from([*STAGES, "Nope", *NASTY[:3]])),
    st.builds(lambda v: f"tags/any(t: t eq {_quote(v)})", st.sampled_from(["x", "y", "w"])),
    st.sampled_from(["price eq null", "price ne null", "due eq null", "title eq null",
                     "stage eq null", "not tags/any()"]),
    st.builds(lambda vs: f"title in ({','.join(map(_quote, vs))})",
              st.lists(texts, min_size=1, max_size=3)),
    # Folded date arithmetic (pushed), arithmetic on properties, casts and counts (residual).
    st.builds(lambda op, v, d: f"due {op} {v} add duration'{d}'", comparisons, dates,
              st.sampled_from(["P1D", "-P1D", "PT12H"])),
    st.builds(lambda op, v: f"due sub duration'P1D' {op} {v}", comparisons, dates),
    st.builds(lambda op, v: f"cast(price, Edm.String) {op} {_quote(v)}",
              st.sampled_from(["eq", "ne"]), st.sampled_from(["10", "10.5", "-3", "x"])),
    st.builds(lambda op, n: f"tags/$count {op} {n}", comparisons, st.sampled_from("0123")),
    st.sampled_from(["cast(due, Edm.DateTimeOffset) lt now()",
                     "cast(due, Edm.DateTimeOffset) gt mindatetime() add duration'P1D'",
                     "cast(due, Edm.DateTimeOffset) lt maxdatetime()", "price gt tags/$count",
                     "cast(now(), Edm.Date) gt due"]),
)
filters = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
    ),
    max_leaves=4,
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=filters)
def test_gateway_answers_exactly_what_odata_means(deals, text):
    gw, every = deals
    expected = sorted(e["Id"] for e in every if matches(parse_filter(text), e))
    response = gw.get("DEALS", params={"$filter": text, "$select": "Id"})
    assert response.status_code == 200, (text, response.text)
    got = sorted(e["Id"] for page in follow(response) for e in page["value"])
    assert got == expected, text
