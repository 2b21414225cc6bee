"""``$bulk`` reverse-ETL loads: thousands of rows, per-row results, compared record by record."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.kintone import KintoneClient, iter_records
from tests.writes.conftest import call, error, ok

FIELDS = {
    "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku", "label": "SKU", "unique": True},
    "name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name", "maxLength": "20"},
    "price": {"type": "NUMBER", "code": "price", "label": "Price"},
    "tags": {"type": "CHECK_BOX", "code": "tags", "label": "Tags",
             "options": {"x": {"label": "x", "index": "0"}, "y": {"label": "y", "index": "1"}}},
}
SET = "Products"
ROWS = 10_000


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, name="Products")[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    return start_writer([app])


def rows(count: int, version: int) -> list[dict]:
    return [{"sku": f"S-{n:05d}", "name": f"item {n} v{version}",
             "price": Decimal(f"{n}.{version:02d}"), "tags": ["x", "y"][: n % 3]}
            for n in range(count)]


def stored(client: KintoneClient, app: int) -> dict[str, dict]:
    records = iter_records(client, app, fields=["sku", "name", "price", "tags"])
    by_sku: dict[str, dict] = {}
    for record in records:
        sku = record["sku"]["value"]
        assert sku not in by_sku, f"{sku} twice"
        by_sku[sku] = {"sku": sku, "name": record["name"]["value"],
                       "price": _decimal(record["price"]["value"]),
                       "tags": record["tags"]["value"]}
    return by_sku


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def load(gw, mode: str, body: list, key: str | None = "sku") -> dict:
    query = f"?mode={mode}" + (f"&key={key}" if key else "")
    return ok(call(gw, "POST", f"{SET}/$bulk{query}", body))


def test_an_upsert_load_of_thousands_of_rows_then_an_update(gw, app):
    first = load(gw, "upsert", rows(ROWS, 1))
    assert (first["inserted"], first["updated"], first["failed"]) == (ROWS, 0, 0)
    assert [r["index"] for r in first["results"]] == list(range(ROWS))
    assert {r["operation"] for r in first["results"]} == {"INSERT"}
    second = load(gw, "upsert", rows(ROWS, 2))
    assert (second["inserted"], second["updated"]) == (0, ROWS)
    assert [r["id"] for r in second["results"]] == [r["id"] for r in first["results"]]
    assert all(r["revision"] == 2 for r in second["results"])
    assert stored(gw.client, app) == {row["sku"]: row for row in rows(ROWS, 2)}


def test_failed_rows_are_named_and_the_others_written(gw, app):
    body = [{"sku": "B-0", "name": "fine"},
            {"sku": "B-1", "name": "a name far longer than twenty"},
            {"sku": "B-2", "name": "fine", "tags": ["z"]},
            {"sku": "B-3", "name": "fine", "price": "not a number"},
            "not a row",
            {"sku": "B-5", "name": "fine"}]
    result = load(gw, "insert", body)
    statuses = [r["status"] for r in result["results"]]
    assert statuses == [201, 400, 400, 400, 400, 201]
    assert result["results"][1]["error"]["details"][0]["target"] == "name"
    assert result["results"][2]["error"]["details"][0]["target"] == "tags"
    assert result["results"][3]["error"]["target"] == "price"
    assert (result["inserted"], result["failed"]) == (2, 4)
    again = load(gw, "insert", [{"sku": "B-0", "name": "duplicate"}, {"sku": "B-6"}])
    assert [r["status"] for r in again["results"]] == [400, 201]
    assert "already exists" in again["results"][0]["error"]["message"]


def test_update_by_id_with_an_unknown_id_among_known_ones(gw, app):
    created = load(gw, "insert", [{"sku": f"U-{n}", "name": "old"} for n in range(5)])
    ids = [r["id"] for r in created["results"]]
    body = [{"Id": record_id, "name": "new"} for record_id in ids]
    body.insert(2, {"Id": 999_999, "name": "ghost"})
    result = load(gw, "update", body, key=None)
    assert [r["status"] for r in result["results"]] == [200, 200, 404, 200, 200, 200]
    names = {r["sku"]: r["name"] for r in stored(gw.client, app).values()
             if r["sku"].startswith("U-")}
    assert set(names.values()) == {"new"}


def test_bad_loads(gw):
    assert error(call(gw, "POST", f"{SET}/$bulk?mode=merge", []), 400)
    assert error(call(gw, "POST", f"{SET}/$bulk?key=name", []), 400)
    assert error(call(gw, "POST", f"{SET}/$bulk", {"rows": []}), 400)
    result = load(gw, "update", [{"name": "no key"}], key=None)
    assert result["results"][0]["error"]["target"] == "Id"
