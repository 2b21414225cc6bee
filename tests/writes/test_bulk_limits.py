"""``$bulk`` is bounded (issue 13 A5): rows per request, and rows without values cost nothing."""

from __future__ import annotations

import pytest

from gateway.events import KintoneCallMade
from gateway.settings import Section
from tests.writes.conftest import call, error, ok

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, name="Loads", code="LOADS")[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    writes = Section("writes", {"maxbulkrows": "50", "idempotencydatabase": ":memory:"})
    gw = start_writer([app], sections={"writes": writes})
    gw.calls = []
    gw.client.events.subscribe(KintoneCallMade, lambda _call: gw.calls.append(1))
    return gw


def total(admin, app: int) -> int:
    return int(admin.ok("GET", "records", params={"app": app, "totalCount": "true",
                                                  "query": "limit 1"})["totalCount"])


def test_more_rows_than_the_setting_are_refused_before_any_is_written(gw, admin, app):
    before = total(admin, app)
    refused = error(call(gw, "POST", "LOADS/$bulk", [{"title": "x"}] * 51), 400)
    assert "MaxBulkRows" in refused["message"]
    assert total(admin, app) == before
    loaded = ok(call(gw, "POST", "LOADS/$bulk", [{"title": "x"}] * 50))
    assert loaded["inserted"] == 50 and total(admin, app) == before + 50


def test_rows_without_values_fail_without_a_kintone_call(gw):
    calls = len(gw.calls)
    body = ok(call(gw, "POST", "LOADS/$bulk", [{}] * 50))
    assert body["failed"] == 50 and body["inserted"] == 0
    assert all("no values" in r["error"]["message"] for r in body["results"])
    assert len(gw.calls) == calls

