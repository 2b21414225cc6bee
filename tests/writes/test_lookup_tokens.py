"""API-token mode: every write that sets a lookup sends the token of the lookup's source app.

Kintone looks a lookup's value up only with a token of the source app in the same request (the
sandbox enforces it as Kintone does: GAIA_LO04). One gateway has both apps' tokens, another only
the written app's: each writing operation succeeds with the first and, with the second, fails
naming the missing token; writes that set no lookup need no other token.
"""

from __future__ import annotations

import pytest

from gateway.settings import AuthScheme, KintoneSettings, Secret
from tests.lookup_apps import WRITE, customer_lookup, make_customers, order_fields, text
from tests.writes.conftest import call, error, ok

SET = "LookupOrders"
MISSING = "No API token is configured for app {} (the lookup field customer)"


@pytest.fixture(scope="module")
def apps(extension) -> dict:
    customers = make_customers(extension, {"C-1": "Acme", "C-2": "Globex"},
                               [["view"], ["add"]])
    fields = order_fields(customers["app"])
    fields["lines"] = {"type": "SUBTABLE", "code": "lines", "fields": {
        "line_customer": text("line_customer",
                              lookup=customer_lookup(customers["app"], "line_name")),
        "line_name": text("line_name")}}
    orders = extension("apps", {"name": SET, "fields": fields, "tokens": [{"rights": WRITE}]})
    return {"orders": orders["app"], "customers": customers["app"],
            "orders_token": orders["tokens"][0], "customers_token": customers["tokens"][0],
            "customers_no_view": customers["tokens"][1]}


def _gateway(start_writer, server, apps: dict, tokens: dict[int, str]):
    settings = KintoneSettings(url=server.url, apps=(apps["orders"],),
                               auth_scheme=AuthScheme.API_TOKEN,
                               api_tokens={app: Secret(t) for app, t in tokens.items()})
    return start_writer([apps["orders"]], kintone=settings)


@pytest.fixture(scope="module")
def both(start_writer, server, apps):
    return _gateway(start_writer, server, apps, {apps["orders"]: apps["orders_token"],
                                                 apps["customers"]: apps["customers_token"]})


@pytest.fixture(scope="module")
def alone(start_writer, server, apps):
    return _gateway(start_writer, server, apps, {apps["orders"]: apps["orders_token"]})


def names_missing(body: dict, apps: dict) -> bool:
    return body["code"] == "KintoneTokenMissing" and body["message"].startswith(
        MISSING.format(apps["customers"]))


def stored(admin, apps: dict, ref: str) -> dict:
    records = admin.ok("GET", "records", params={
        "app": apps["orders"], "query": f'ref = "{ref}"'})["records"]
    assert len(records) == 1, records
    return {code: cell["value"] for code, cell in records[0].items()}


def test_create(both, alone, admin, apps):
    created = ok(call(both, "POST", SET, {"ref": "create-1", "customer": "C-1"}), 201)
    assert created["customer_name"] == "Acme"
    refused = error(call(alone, "POST", SET, {"ref": "create-2", "customer": "C-1"}), 502)
    assert names_missing(refused, apps), refused
    ok(call(alone, "POST", SET, {"ref": "create-3", "qty": 1}), 201)  # no lookup, no token


def test_update(both, alone, admin, apps):
    rid = ok(call(both, "POST", SET, {"ref": "update-1", "customer": "C-1"}), 201)["Id"]
    assert call(both, "PATCH", f"{SET}({rid})", {"customer": "C-2"}).status_code in (200, 204)
    assert stored(admin, apps, "update-1")["customer_name"] == "Globex"
    refused = error(call(alone, "PATCH", f"{SET}({rid})", {"customer": "C-1"}), 502)
    assert names_missing(refused, apps), refused
    assert call(alone, "PATCH", f"{SET}({rid})", {"qty": 5}).status_code in (200, 204)
    assert stored(admin, apps, "update-1")["customer_name"] == "Globex"


def test_upsert(both, alone, admin, apps):
    url = f"{SET}(ref='upsert-1')"
    assert ok(call(both, "PATCH", url, {"customer": "C-2"}), 201)["customer_name"] == "Globex"
    assert call(both, "PATCH", url, {"customer": "C-1"}).status_code in (200, 204)
    assert stored(admin, apps, "upsert-1")["customer_name"] == "Acme"
    refused = error(call(alone, "PATCH", url, {"customer": "C-2"}), 502)
    assert names_missing(refused, apps), refused


def test_bulk(both, alone, admin, apps):
    rows = [{"ref": f"bulk-{n}", "customer": "C-2" if n % 2 else "C-1"} for n in range(4)]
    result = ok(call(both, "POST", f"{SET}/$bulk?mode=upsert&key=ref", rows))
    assert (result["inserted"], result["failed"]) == (4, 0)
    assert stored(admin, apps, "bulk-3")["customer_name"] == "Globex"
    mixed = [{"ref": "bulk-0", "qty": 7}, {"ref": "bulk-1", "customer": "C-1"}]
    result = ok(call(alone, "POST", f"{SET}/$bulk?mode=upsert&key=ref", mixed))
    assert [r["status"] for r in result["results"]] == [200, 502]
    assert names_missing(result["results"][1]["error"], apps), result
    assert stored(admin, apps, "bulk-1")["customer_name"] == "Globex"  # unchanged


def test_batch(both, alone, admin, apps):
    requests_ = [
        {"id": "1", "method": "POST", "url": SET, "atomicityGroup": "g",
         "body": {"ref": "batch-1", "customer": "C-1"}},
        {"id": "2", "method": "PATCH", "url": f"{SET}(ref='batch-2')", "atomicityGroup": "g",
         "body": {"customer": "C-2"}},
    ]
    responses = ok(call(both, "POST", "$batch", {"requests": requests_}))["responses"]
    assert [r["status"] for r in responses] == [201, 201]
    assert stored(admin, apps, "batch-2")["customer_name"] == "Globex"
    retry = [{**r, "body": {**r["body"], "ref": f"batch-{r['id']}b"}} if r["method"] == "POST"
             else {**r, "url": f"{SET}(ref='batch-2b')"} for r in requests_]
    answer = call(alone, "POST", "$batch", {"requests": retry})
    responses = ok(answer)["responses"]
    assert {r["status"] for r in responses} <= {502, 424}, responses
    assert any(names_missing(r["body"]["error"], apps) for r in responses if "body" in r)
    assert admin.ok("GET", "records", params={
        "app": apps["orders"], "query": 'ref in ("batch-1b", "batch-2b")'})["records"] == []


def test_a_lookup_inside_subtable_rows(both, alone, admin, apps):
    body = {"ref": "rows-1", "lines": [{"line_customer": ""}, {"line_customer": "C-2"}]}
    refused = error(call(alone, "POST", SET, body), 502)
    assert refused["message"].startswith(
        f"No API token is configured for app {apps['customers']} (the lookup field "
        "line_customer)"), refused
    ok(call(both, "POST", SET, body), 201)
    rows = stored(admin, apps, "rows-1")["lines"]
    assert [row["value"]["line_name"]["value"] for row in rows] == ["", "Globex"]
    ok(call(alone, "POST", SET, {"ref": "rows-2", "lines": [{"line_customer": ""}]}), 201)


def test_a_source_token_without_the_view_right(start_writer, server, admin, apps):
    blind = _gateway(start_writer, server, apps, {apps["orders"]: apps["orders_token"],
                                                  apps["customers"]: apps["customers_no_view"]})
    refused = error(call(blind, "POST", SET, {"ref": "blind-1", "customer": "C-1"}), 400)
    assert refused["code"] == "KintoneRejectedWrite"
    assert refused["details"][0]["code"] == "GAIA_LO04"
    assert "token of the lookup's source app needs the view right" in refused["message"]

