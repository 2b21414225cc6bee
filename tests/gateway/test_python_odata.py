"""An independent OData v4 client, python-odata, against the gateway in front of the demo data:
it reflects $metadata, reads every set to its end through the next links, filters (on Japanese
property names too), counts and expands navigation properties."""

from __future__ import annotations

import pytest
from odata import ODataService
from requests.auth import HTTPBasicAuth

from gateway.sandbox.demo import CUSTOMER_COUNT, ORDER_COUNT
from tests.gateway.conftest import follow

SUPPORT_APP = 3  # the demo's third app


@pytest.fixture(scope="module")
def service(demo_gateway) -> ODataService:
    # Basic user:authtoken, as BI tools send the gateway's credentials.
    return ODataService(demo_gateway.root + "/", reflect_entities=True, quiet_progress=True,
                        auth=HTTPBasicAuth("test", demo_gateway.token))


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


def server_count(demo_gateway, path: str, **params: str) -> int:
    """What the gateway's /$count says, asked over plain HTTP (the oracle for the client)."""
    response = demo_gateway.get(f"{path}/$count", params=params or None,
                                headers={"Accept": "text/plain"})
    assert response.status_code == 200, response.text
    return int(response.text)


def test_reads_every_set_through_next_links(service, demo_gateway):
    assert set(service.entities) == {s["name"] for s in demo_gateway.json()["value"]}
    for name, entity in service.entities.items():
        query = service.query(entity)
        params = {}
        if name == "Comments":  # comments are read per app
            query = query.filter(entity.AppId == SUPPORT_APP)
            params = {"$filter": f"AppId eq {SUPPORT_APP}"}
        rows = list(query)
        assert len(rows) == server_count(demo_gateway, name, **params) > 0, name
        keys = [tuple(getattr(row, prop.name) for _, prop in row.__odata__.primary_key_properties)
                for row in rows]
        assert len(set(keys)) == len(keys), name  # no row twice across pages


def test_filters_on_a_japanese_property(service, demo_gateway):
    support = service.entities["SUPPORT"]
    high = list(service.query(support).filter(support.優先度 == "高"))
    pages = follow(demo_gateway.get("SUPPORT", params={"$select": "Id,優先度"}))
    expected = [row["Id"] for page in pages for row in page["value"] if row["優先度"] == "高"]
    assert sorted(row.Id for row in high) == sorted(expected) and expected


def test_counts(service, demo_gateway):
    orders = service.entities["ORDERS"]
    counted = service.query(orders).filter(orders.quantity >= 45).count()
    assert counted == server_count(demo_gateway, "ORDERS", **{"$filter": "quantity ge 45"}) > 0


def test_counts_with_its_json_accept_header(service, demo_gateway):
    orders = service.entities["ORDERS"]
    assert service.query(orders).count() == ORDER_COUNT
    assert service.query(orders).filter(orders.quantity >= 5).count() == len(
        list(service.query(orders).filter(orders.quantity >= 5)))
    refused = demo_gateway.get("ORDERS/$count", headers={"Accept": "application/xml"})
    assert refused.status_code == 406 and refused.json()["error"]["code"]


def test_expands_lookups_comments_and_subtable_rows(service, demo_gateway):
    orders = service.entities["ORDERS"]
    for order in service.query(orders).expand(orders.customer_code_Record).limit(20):
        customer = order.customer_code_Record
        assert customer.customer_code == order.customer_code
        assert customer.company_name == order.company_name
    support = service.entities["SUPPORT"]
    tickets = list(service.query(support).expand(support.Comments).limit(30))
    for ticket in tickets:
        expected = demo_gateway.json(f"SUPPORT({ticket.Id})/Comments")["value"]
        assert [c.Text for c in ticket.Comments] == [c["Text"] for c in expected]
    assert any(ticket.Comments for ticket in tickets)
    customers = service.entities["CUSTOMERS"]
    for customer in service.query(customers).expand(customers.contacts_Rows).limit(10):
        assert [row.contact_name for row in customer.contacts_Rows] == [
            row["contact_name"] for row in customer.contacts]


def test_follows_navigation_properties_of_an_entity(service, demo_gateway):
    support = service.entities["SUPPORT"]
    ticket = service.query(support).get(1)
    expected = demo_gateway.json("SUPPORT(1)/Comments")["value"]
    assert [c.Text for c in ticket.Comments] == [c["Text"] for c in expected] != []
    orders = service.entities["ORDERS"]
    order = service.query(orders).get(1)
    assert order.customer_code_Record.customer_code == order.customer_code
