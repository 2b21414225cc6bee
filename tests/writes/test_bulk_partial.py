"""A ``$bulk`` load that fails part-way: every row gets its own result, the rows written stay
reported as written, and the answer is a 200, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.kintone import KintoneUnavailable
from tests.gateway.conftest import FAST_RETRY, RecordingClient, kintone_settings
from tests.writes.conftest import call, ok

FIELDS = {"sku": {"type": "SINGLE_LINE_TEXT", "code": "sku", "label": "SKU", "unique": True},
          "qty": {"type": "NUMBER", "code": "qty", "label": "Qty"}}


class LosingClient(RecordingClient):
    """Loses the answer to every add_records call after the first (the records are written)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.adds = 0

    def add_records(self, app: int, records: Any, **kwargs: Any):
        refs = super().add_records(app, records, **kwargs)
        self.adds += 1
        if self.adds > 1:
            raise KintoneUnavailable(503, None, "the answer was lost")
        return refs


@pytest.fixture()
def gw_and_app(start_writer, make_app, server):
    app, _ = make_app(FIELDS, name="Stock22")
    client = LosingClient(kintone_settings(server.url, (app,)), retry=FAST_RETRY)
    return start_writer([app], client=client), app


def test_a_row_that_cannot_be_looked_up_fails_alone(gw_and_app, admin):
    gw, app = gw_and_app
    rows = [{"sku": f"P-{n:03d}", "qty": n} for n in range(150)]
    rows[100]["sku"] = "P-\x01-control"  # no Kintone query can name it
    result = ok(call(gw, "POST", "Stock22/$bulk?mode=insert&key=sku", rows))
    statuses = [r["status"] for r in result["results"]]
    assert statuses[:100] == [201] * 100 and statuses[101:] == [201] * 49
    assert statuses[100] == 400 and "sku" in result["results"][100]["error"]["message"]
    assert (result["inserted"], result["failed"]) == (149, 1)
    stored = admin.ok("GET", "records", params={"app": app, "totalCount": "true",
                                                "query": "limit 1"})
    assert int(stored["totalCount"]) == 149


class BreakingClient(RecordingClient):
    """Fails in an unforeseen way on every add_records call after the first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.adds = 0

    def add_records(self, app: int, records: Any, **kwargs: Any):
        self.adds += 1
        if self.adds > 1:
            raise RuntimeError("a bug")
        return super().add_records(app, records, **kwargs)


def test_an_unforeseen_failure_keeps_the_rows_written(start_writer, make_app, server):
    app, _ = make_app(FIELDS, name="Stock22b")
    client = BreakingClient(kintone_settings(server.url, (app,)), retry=FAST_RETRY)
    gw = start_writer([app], client=client)
    rows = [{"sku": f"Q-{n:03d}", "qty": n} for n in range(150)]
    result = ok(call(gw, "POST", "Stock22b/$bulk?mode=insert&key=sku", rows))
    assert [r["status"] for r in result["results"]] == [201] * 100 + [500] * 50
    assert result["results"][0]["id"] and result["results"][120]["error"]["code"] == \
        "InternalError"
    assert (result["inserted"], result["failed"]) == (100, 50)
