"""The documents describing the service show a caller only the sets it may read: the service
document, $metadata (XML and JSON), $oas (Swagger 2 and OpenAPI 3), Apps and Fields; a user
with GET on everything sees everything. Narrowed models are shared by users with the same
rights."""

from __future__ import annotations

import json

import pytest
import requests

from gateway.http.context import EXTENSION
from tests.security.narrow import users

CUSTOMERS = {"cname": {"type": "SINGLE_LINE_TEXT", "code": "cname", "label": "Name"}}
ORDERS = {"secret_margin": {"type": "NUMBER", "code": "secret_margin", "label": "Margin"},
          "lines": {"type": "SUBTABLE", "code": "lines", "label": "Lines", "fields": {
              "sku_hidden": {"type": "SINGLE_LINE_TEXT", "code": "sku_hidden", "label": "SKU"}}}}
RIGHTS = {"narrow": "GET:DCustomers,Apps,Fields", "twin": "GET:Fields,DCustomers,Apps",
          "reader": "GET:*"}
HIDDEN = ("DOrders", "secret_margin", "sku_hidden")


@pytest.fixture(scope="module")
def gw_and_users(start_gateway, make_app):
    customers, _ = make_app(CUSTOMERS, name="DCustomers")
    orders, _ = make_app(ORDERS, name="DOrders")
    sections, headers = users(RIGHTS)
    return start_gateway([customers, orders], sections=sections), headers, (customers, orders)


def texts(gw, who: dict) -> dict[str, str]:
    documents = {}
    for name, path in (("service", ""), ("xml", "$metadata"), ("json", "$metadata?$format=json"),
                       ("swagger", "$oas"), ("oas3", "$oas?version=3"),
                       ("apps", "Apps"), ("fields", "Fields")):
        response = requests.get(gw.url(path), headers=who, timeout=60)
        assert response.status_code == 200, (path, response.text)
        documents[name] = response.text
    return documents


def test_a_narrow_user_sees_only_what_it_may_read(gw_and_users):
    gw, who, (customers, _orders) = gw_and_users
    for name, text in texts(gw, who["narrow"]).items():
        assert "DCustomers" in text or name == "apps", name
        for hidden in HIDDEN:
            assert hidden not in text, (name, hidden)
    service = requests.get(gw.url(""), headers=who["narrow"], timeout=30).json()
    assert sorted(s["name"] for s in service["value"]) == ["Apps", "DCustomers", "Fields"]
    apps = requests.get(gw.url("Apps"), headers=who["narrow"], timeout=30).json()["value"]
    assert [a["Id"] for a in apps] == [customers]
    fields = requests.get(gw.url("Fields"), headers=who["narrow"], timeout=30).json()["value"]
    assert {f["AppId"] for f in fields} == {customers}


def test_whoever_reads_everything_sees_everything(gw_and_users):
    gw, who, apps = gw_and_users
    for headers in (gw.auth, who["reader"]):
        documents = texts(gw, headers)
        for name in ("service", "xml", "json", "swagger", "oas3"):
            assert "DOrders" in documents[name], name
            assert name == "service" or "secret_margin" in documents[name], name
        assert sorted(a["Id"] for a in json.loads(documents["apps"])["value"]) == \
            sorted(apps)


def test_users_with_the_same_rights_share_one_narrowed_model(gw_and_users):
    gw, who, _ = gw_and_users
    for name in ("narrow", "twin"):
        assert requests.get(gw.url("$metadata"), headers=who[name], timeout=30).ok
    described = gw.app.extensions[EXTENSION].described
    model = gw.app.extensions[EXTENSION].models.get()
    assert len(described._cache[model]) == 1
