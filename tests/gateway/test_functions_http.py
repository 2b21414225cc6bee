"""The issue's first-contact expressions over HTTP on the demo's CUSTOMERS: now(),
mindatetime(), maxdatetime(), date and duration arithmetic, property-to-property arithmetic,
cast, fractionalseconds, totaloffsetminutes and Subtable/$count. Each answer equals the same
question asked in plain Python over every record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.gateway.conftest import follow


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def customers(demo) -> list[dict]:
    return [row for page in follow(demo.get("CUSTOMERS")) for row in page["value"]]


def ids(demo, text: str) -> list[int]:
    pages = follow(demo.get("CUSTOMERS", params={"$filter": text, "$select": "Id"}))
    return [row["Id"] for page in pages for row in page["value"]]


CASES: list[tuple[str, Callable[[dict, datetime], bool]]] = [
    ("Created_datetime lt now()", lambda r, now: moment(r["Created_datetime"]) < now),
    ("Created_datetime gt now() sub duration'P600D'",
     lambda r, now: moment(r["Created_datetime"]) > now - timedelta(days=600)),
    ("Created_datetime gt mindatetime() and Updated_datetime lt maxdatetime()",
     lambda r, now: True),
    ("customer_since add duration'P365D' lt 2020-01-01",
     lambda r, now: r["customer_since"] is not None
     and date.fromisoformat(r["customer_since"]) + timedelta(days=365) < date(2020, 1, 1)),
    ("Updated_datetime sub Created_datetime le duration'PT0S' and Id le 100",
     lambda r, now: moment(r["Updated_datetime"]) <= moment(r["Created_datetime"])
     and r["Id"] <= 100),
    ("cast(annual_revenue, Edm.String) eq '4220300000'",
     lambda r, now: r["annual_revenue"] == 4220300000),
    ("cast(Created_datetime, Edm.Date) ge customer_since",
     lambda r, now: r["customer_since"] is not None
     and moment(r["Created_datetime"]).date() >= date.fromisoformat(r["customer_since"])),
    ("fractionalseconds(Created_datetime) eq 0 and totaloffsetminutes(Created_datetime) eq 0",
     lambda r, now: True),
    ("contacts/$count gt 1", lambda r, now: len(r["contacts"]) > 1),
    ("contacts/$count eq interests/$count",
     lambda r, now: len(r["contacts"]) == len(r["interests"])),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text for text, _ in CASES])
def test_the_answer_is_pythons(demo, customers, text, expected):
    now = datetime.now(UTC)
    wanted = [row["Id"] for row in customers if expected(row, now)]
    assert ids(demo, text) == wanted
    assert len(wanted) > 0 or text.startswith("cast(annual")
