"""An independent OData v4 client, python-odata, against the gateway in front of the demo data:
it reflects $metadata, queries, filters and follows the next links to the end of an app."""

from __future__ import annotations

import pytest
from odata import ODataService
from requests.auth import HTTPBasicAuth

from gateway.sandbox.demo import CUSTOMER_COUNT, ORDER_COUNT


@pytest.fixture(scope="module")
def service(demo) -> ODataService:
    # Basic user:authtoken, as BI tools send the gateway's credentials.
    return ODataService(demo.root + "/", reflect_entities=True, quiet_progress=True,
                        auth=HTTPBasicAuth("test", demo.token))


def test_reflects_every_demo_set(service):
    assert {"CUSTOMERS", "ORDERS", "SUPPORT", "CUSTOMERS_contacts", "Apps", "Comments",
            "Fields"} <= set(service.entities)


def test_reads_an_app_to_the_end_through_next_links(service):
    customers = service.entities["CUSTOMERS"]
    rows = list(service.query(customers))
    assert len(rows) == CUSTOMER_COUNT
    assert [row.Id for row in rows] == list(range(1, CUSTOMER_COUNT + 1))


def test_filters_orders_and_limits(service):
    orders = service.entities["ORDERS"]
    big = list(service.query(orders).filter(orders.quantity >= 5).order_by(
        orders.quantity.desc()).limit(20))
    assert len(big) == 20
    quantities = [row.quantity for row in big]
    assert quantities == sorted(quantities, reverse=True) and min(quantities) >= 5
    assert len(list(service.query(orders))) == ORDER_COUNT


def test_one_entity_by_key(service):
    customers = service.entities["CUSTOMERS"]
    customer = service.query(customers).get(42)
    assert customer.Id == 42 and customer.customer_code


def test_counts_with_its_json_accept_header(service, demo):
    orders = service.entities["ORDERS"]
    assert service.query(orders).count() == ORDER_COUNT
    assert service.query(orders).filter(orders.quantity >= 5).count() == len(
        list(service.query(orders).filter(orders.quantity >= 5)))
    refused = demo.get("ORDERS/$count", headers={"Accept": "application/xml"})
    assert refused.status_code == 406 and refused.json()["error"]["code"]
