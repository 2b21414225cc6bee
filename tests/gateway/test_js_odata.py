"""An independent OData client from npm, o.js, against the gateway in front of the demo data:
every set read to its end through the next links, a count, a filter on a Japanese property,
lookups and comments expanded. ``npm ci`` installs o.js (pinned in ``js/package-lock.json``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.gateway.conftest import follow
from tests.node import npm_installed

JS = Path(__file__).with_name("js")
SUPPORT_APP = 3  # the demo's third app


@pytest.fixture(scope="module")
def result(demo_gateway) -> dict:
    npm_installed(JS)
    sets = [s["name"] for s in demo_gateway.json()["value"]]
    run = subprocess.run(["node", str(JS / "odata_client_check.mjs"), demo_gateway.root + "/",
                          "test", demo_gateway.token, *sets],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def server_count(demo_gateway, path: str, **params: str) -> int:
    response = demo_gateway.get(f"{path}/$count", params=params or None,
                                headers={"Accept": "text/plain"})
    assert response.status_code == 200, response.text
    return int(response.text)


def ok(check: dict):
    assert "ok" in check, check
    return check["ok"]


def test_reads_every_set_to_its_end(result, demo_gateway):
    assert set(result["sets"]) == {s["name"] for s in demo_gateway.json()["value"]}
    for name, check in result["sets"].items():
        params = {"$filter": f"AppId eq {SUPPORT_APP}"} if name == "Comments" else {}
        read = ok(check)
        expected = server_count(demo_gateway, name, **params)
        assert read["count"] == expected > 0, name
        # Pages of 500 (the test gateway's size); a full page always has a next link. Comments
        # pages also end when their Kintone calls reach [gateway] CallsPerPage.
        pages = expected // 500 + 1
        assert read["pages"] >= pages if name == "Comments" else read["pages"] == pages, name


def test_counts_inline(result, demo_gateway):
    expected = server_count(demo_gateway, "ORDERS", **{
        "$filter": "quantity ge 45 and product eq 'Premium plan'"})
    assert ok(result["count"]) == expected > 0


def test_filters_on_a_japanese_property(result, demo_gateway):
    pages = follow(demo_gateway.get("SUPPORT", params={"$select": "Id,優先度"}))
    expected = [row["Id"] for page in pages for row in page["value"] if row["優先度"] == "高"]
    high = ok(result["japaneseFilter"])
    assert [row["Id"] for row in high] == expected and expected


def test_expands_lookups_and_comments(result, demo_gateway):
    for order in ok(result["expand"]):
        customer = order["customer_code_Record"]
        assert customer["customer_code"] == order["customer_code"]
        assert customer["company_name"] == order["company_name"]
        assert isinstance(order["Comments"], list)
    tickets = ok(result["expandComments"])
    assert len(tickets) == 20 and any(ticket["Comments"] for ticket in tickets)
    for ticket in tickets:
        expected = demo_gateway.json(f"SUPPORT({ticket['Id']})/Comments",
                                     params={"$select": "Id,Text", "$top": "2"})["value"]
        assert ticket["Comments"] == expected
