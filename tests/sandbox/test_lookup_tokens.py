"""Lookups under API tokens: a write that looks a value up needs the source app's token too.

Kintone checks that the request may view the lookup's source app; a request carrying only the
written app's token gets the same 400 GAIA_LO04 as a key that matches nothing (field reports of
real tenants; see gateway/sandbox/README.md, "Lookups under API tokens").
"""

from __future__ import annotations

import pytest
import requests

from tests.kintone_http import Kintone, error_of
from tests.lookup_apps import WRITE, make_customers, order_fields

LO04_EN = ("A value C-404 in the field customer does not exist in the datasource app for lookup, "
           "or you do not have permission to view the app or the field.")
LO04_JA = ("フィールド「customer」の値「C-404」が、ルックアップの参照先のフィールドにないか、"
           "またはアプリやフィールドの閲覧権限がありません。")


@pytest.fixture(scope="module")
def apps(server) -> dict:
    def post(path: str, body: dict) -> dict:
        response = requests.post(f"{server.url}/__sandbox/{path}", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    customers = make_customers(post, {"C-1": "Acme", "C-404": "Hidden"}, [["view"], ["add"]])
    orders = post("apps", {"name": "Orders", "fields": order_fields(customers["app"]),
                           "tokens": [{"rights": WRITE}]})
    source_view, source_add_only = customers["tokens"]
    return {"orders": orders["app"], "customers": customers["app"],
            "orders_token": orders["tokens"][0], "source_view": source_view,
            "source_add_only": source_add_only}


def _clients(server, apps) -> tuple[Kintone, Kintone]:
    alone = Kintone.with_tokens(server.url, apps["orders_token"])
    both = Kintone.with_tokens(server.url, apps["orders_token"], apps["source_view"])
    return alone, both


def _cell(key: str) -> dict:
    return {"customer": {"value": key}}


def test_every_write_that_looks_up_needs_the_source_token(server, apps):
    alone, both = _clients(server, apps)
    app = apps["orders"]
    rec = both.ok("POST", "record", {"app": app, "record": {"ref": {"value": "o-1"},
                                                            **_cell("C-1")}})["id"]
    writes = [
        ("POST", "record", {"app": app, "record": _cell("C-1")}),
        ("POST", "records", {"app": app, "records": [_cell("C-1")]}),
        ("PUT", "record", {"app": app, "id": rec, "record": _cell("C-1")}),
        ("PUT", "records", {"app": app, "records": [{"id": rec, "record": _cell("C-1")}]}),
        ("PUT", "records", {"app": app, "upsert": True, "records": [
            {"updateKey": {"field": "ref", "value": "o-new"}, "record": _cell("C-1")}]}),
    ]
    for method, api, body in writes:
        refused = alone.request(method, api, body)
        assert error_of(refused) == (400, "GAIA_LO04"), (method, api, refused.text)
        assert "errors" not in refused.json()
        assert both.request(method, api, body).status_code == 200, (method, api)
    stored = both.ok("GET", "record", params={"app": app, "id": rec})["record"]
    assert stored["customer_name"]["value"] == "Acme"


def test_bulk_request_answers_the_failing_sub_request(server, apps):
    alone, both = _clients(server, apps)
    app = apps["orders"]
    body = {"requests": [
        {"method": "POST", "api": "/k/v1/record.json",
         "payload": {"app": app, "record": {"qty": {"value": "1"}}}},
        {"method": "POST", "api": "/k/v1/record.json",
         "payload": {"app": app, "record": _cell("C-1")}},
    ]}
    refused = alone.post("bulkRequest", body)
    assert refused.status_code == 400
    assert [r.get("code") for r in refused.json()["results"]] == [None, "GAIA_LO04"]
    assert len(both.ok("POST", "bulkRequest", body)["results"]) == 2


def test_the_message_is_the_missing_key_message(server, apps):
    alone, _ = _clients(server, apps)
    body = {"app": apps["orders"], "record": _cell("C-404")}  # the key exists in the source
    english = alone.post("record", body, headers={"Accept-Language": "en"}).json()
    assert (english["code"], english["message"]) == ("GAIA_LO04", LO04_EN)
    japanese = alone.post("record", body, headers={"Accept-Language": "ja"}).json()
    assert japanese["message"] == LO04_JA


def test_the_source_token_needs_the_view_right(server, apps):
    no_view = Kintone.with_tokens(server.url, apps["orders_token"], apps["source_add_only"])
    assert error_of(no_view.post("record", {"app": apps["orders"], "record": _cell("C-1")})) == (
        400, "GAIA_LO04")


def test_writes_that_do_not_look_up_and_reads_need_only_the_apps_own_token(server, apps):
    alone, _ = _clients(server, apps)
    app = apps["orders"]
    rec = alone.ok("POST", "record", {"app": app, "record": {"qty": {"value": "2"}}})["id"]
    alone.ok("PUT", "record", {"app": app, "id": rec, "record": _cell("")})  # a clear
    alone.ok("PUT", "record", {"app": app, "id": rec, "record": {"qty": {"value": "3"}}})
    records = alone.ok("GET", "records", params={"app": app})["records"]
    assert any(r["customer_name"]["value"] == "Acme" for r in records)

