"""Loads through a Kintone that throttles (429), fails (503) and drops connections at a few per
cent of its calls: every record arrives exactly once, with the right values."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests

from gateway.kintone import RetryPolicy, iter_records
from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.state import Faults
from tests.conftest import ADMIN
from tests.gateway.conftest import Gateway, kintone_settings
from tests.writes.conftest import call, ok

FIELDS = {
    "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku", "label": "SKU", "unique": True},
    "qty": {"type": "NUMBER", "code": "qty", "label": "Qty"},
}
FAULTS = Faults(rate_429=0.03, rate_503=0.03, rate_drop=0.03)
PATIENT = RetryPolicy(retries=8, base_delay=0.005, max_delay=0.02)
RECORDS = 5000


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[Sandbox, SandboxServer]]:
    sandbox = Sandbox()
    sandbox.directory.add_user(*ADMIN, "Administrator User")
    server = SandboxServer(sandbox).start()
    yield sandbox, server
    server.stop()


@pytest.fixture()
def app_and_gateway(faulty, start_writer) -> Iterator[tuple[int, Gateway]]:
    sandbox, server = faulty
    created = requests.post(f"{server.url}/__sandbox/apps", timeout=60,
                            json={"name": "Stock", "fields": FIELDS})
    app = created.json()["app"]
    gw = start_writer([app], kintone=kintone_settings(server.url, (app,)), retry=PATIENT)
    ok(call(gw, "GET", ""))  # the model is read before the faults start
    sandbox.faults = FAULTS
    yield app, gw
    sandbox.faults = Faults()


def rows(count: int, version: int) -> list[dict]:
    return [{"sku": f"F-{n:05d}", "qty": n * 10 + version} for n in range(count)]


def assert_exactly(gw: Gateway, app: int, expected: list[dict]) -> None:
    stored: dict[str, Decimal] = {}
    for record in iter_records(gw.client, app, fields=["sku", "qty"]):
        sku = record["sku"]["value"]
        assert sku not in stored, f"{sku} written twice"
        stored[sku] = Decimal(record["qty"]["value"])
    assert stored == {row["sku"]: Decimal(row["qty"]) for row in expected}


@pytest.mark.parametrize("mode", ["upsert", "insert"])
def test_a_faulty_load_ends_with_every_record_once(app_and_gateway, faulty, mode):
    app, gw = app_and_gateway
    result = ok(call(gw, "POST", f"Stock/$bulk?mode={mode}&key=sku", rows(RECORDS, 1)))
    assert result["failed"] == 0, [r for r in result["results"] if "error" in r][:3]
    assert result["inserted"] == RECORDS
    if mode == "upsert":
        second = ok(call(gw, "POST", "Stock/$bulk?mode=upsert&key=sku", rows(RECORDS, 2)))
        assert (second["failed"], second["updated"]) == (0, RECORDS)
    faulty[0].faults = Faults()
    assert_exactly(gw, app, rows(RECORDS, 2 if mode == "upsert" else 1))
