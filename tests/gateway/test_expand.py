"""Navigation properties: ``$expand`` of comments, subtable rows and lookups (with nested options
and a bounded number of Kintone calls per page), and ``Set(Id)/Comments``."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gateway.events import KintoneCallMade
from gateway.security import add_user
from gateway.security.rights import Rights
from gateway.settings import GatewaySettings, Settings
from tests.gateway.conftest import follow, kintone_settings, values

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
CUSTOMERS = 120
ORDERS = 150
CUSTOMER_FIELDS = {
    "code": {"type": "SINGLE_LINE_TEXT", "code": "code", "label": "Code", "unique": True},
    "name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name"},
    "lines": {"type": "SUBTABLE", "code": "lines", "label": "Lines", "fields": {
        "item": {"type": "SINGLE_LINE_TEXT", "code": "item", "label": "Item"},
        "qty": {"type": "NUMBER", "code": "qty", "label": "Qty"}}},
}


def order_fields(customers: int) -> dict:
    return {
        "cust": {"type": "SINGLE_LINE_TEXT", "code": "cust", "label": "Customer", "lookup": {
            "relatedApp": {"app": str(customers)}, "relatedKeyField": "code",
            "fieldMappings": [{"field": "cust_name", "relatedField": "name"}],
            "lookupPickerFields": ["code"], "filterCond": "", "sort": "$id asc"}},
        "cust_name": {"type": "SINGLE_LINE_TEXT", "code": "cust_name", "label": "Name"},
    }


VIEWED = range(2, 14)  # the customer codes the view app's records hold


def view_fields(orders: int) -> dict:
    return {
        "code": {"type": "SINGLE_LINE_TEXT", "code": "code", "label": "Code"},
        "orders": {"type": "REFERENCE_TABLE", "code": "orders", "label": "Orders",
                   "referenceTable": {
                       "relatedApp": {"app": str(orders)},
                       "condition": {"field": "code", "relatedField": "cust"},
                       "filterCond": "$id > 50", "displayFields": ["cust", "cust_name"],
                       "sort": "$id asc", "size": "5"}},
    }


def lines_of(n: int) -> list[dict]:
    return [{"value": {"item": {"value": f"item {n}-{row}"}, "qty": {"value": str(row)}}}
            for row in range(n % 4)]


@pytest.fixture(scope="module")
def apps(make_app, admin):
    customers, _ = make_app(CUSTOMER_FIELDS, [
        {**values(code=f"C{n:03d}", name=f"Company {n}"), "lines": {"value": lines_of(n)}}
        for n in range(1, CUSTOMERS + 1)], code="EXPCUST", name="Expand customers")
    orders, _ = make_app(order_fields(customers), [
        values(cust=f"C{n % 12 + 1:03d}" if n % 10 else "")
        for n in range(ORDERS)], code="EXPORDER", name="Expand orders")
    view, _ = make_app(view_fields(orders), [values(code=f"C{n:03d}") for n in VIEWED] + [{}],
                       code="EXPVIEW", name="Expand view")
    for record, count in ((1, 12), (2, 3)):
        for n in range(count):
            admin.ok("POST", "record/comment", {"app": customers, "record": record,
                                                "comment": {"text": f"c{n} on {record}"}})
    return customers, orders, view


@pytest.fixture(scope="module")
def gw(start_gateway, apps):
    return start_gateway(list(apps), page_size=500)


def texts(comments: list[dict]) -> list[str]:
    return [comment["Text"].strip() for comment in comments]


def calls(gw, path: str, params: dict) -> tuple[dict, int]:
    """The body of a GET and how many Kintone calls it made (the schema already cached)."""
    gw.json("EXPCUST", params={"$top": "0"})
    made: list[int] = []
    gw.client.events.subscribe(KintoneCallMade, lambda _call: made.append(1))
    body = gw.json(path, params=params)
    return body, len(made)


def test_metadata_declares_the_navigation_properties(gw):
    root = ET.fromstring(gw.get("$metadata").content)
    types = {t.get("Name"): t for t in root.iter(f"{EDM}EntityType")}
    navs = {t: {n.get("Name"): n.get("Type") for n in types[t].iter(f"{EDM}NavigationProperty")}
            for t in ("EXPCUST", "EXPORDER")}
    assert navs["EXPCUST"] == {"Comments": "Collection(Kintone.Comment)",
                               "lines_Rows": "Collection(Kintone.EXPCUST_lines)"}
    assert navs["EXPORDER"] == {"Comments": "Collection(Kintone.Comment)",
                                "cust_Record": "Kintone.EXPCUST"}
    sets = {s.get("Name"): s for s in root.iter(f"{EDM}EntitySet")}
    bindings = {b.get("Path"): b.get("Target")
                for b in sets["EXPORDER"].iter(f"{EDM}NavigationPropertyBinding")}
    assert bindings == {"Comments": "Comments", "cust_Record": "EXPCUST"}
    schema = gw.json("$metadata", params={"$format": "json"})["Kintone"]
    assert schema["EXPORDER"]["cust_Record"] == {
        "$Kind": "NavigationProperty", "$Nullable": True, "$Type": "Kintone.EXPCUST"}
    assert schema["Container"]["EXPCUST"]["$NavigationPropertyBinding"] == {
        "Comments": "Comments", "lines_Rows": "EXPCUST_lines"}


def test_subtable_rows_with_nested_options(gw):
    body = gw.json("EXPCUST", params={
        "$select": "code", "$top": "8", "$expand":
            "lines_Rows($filter=qty ge 1;$orderby=qty desc;$top=1;$select=item;$count=true)"})
    for n, customer in enumerate(body["value"], 1):
        expected = [{"item": f"item {n}-{n % 4 - 1}"}] if n % 4 > 1 else []
        assert customer["lines_Rows"] == expected, n
        assert customer["lines_Rows@odata.count"] == max(n % 4 - 1, 0)
        assert set(customer) == {"@odata.etag", "code", "lines_Rows", "lines_Rows@odata.count"}
    whole = gw.json("EXPCUST(3)", params={"$expand": "lines_Rows"})
    assert whole["lines_Rows"] == [{"RecordId": 3, "RowId": row["RowId"], "item": f"item 3-{i}",
                                    "qty": i} for i, row in enumerate(whole["lines"])]


def test_a_navigation_property_may_be_selected_beside_its_expand(gw):
    body = gw.json("EXPORDER", params={"$top": "2", "$select": "Id,cust_Record",
                                       "$expand": "cust_Record($select=name)"})
    assert [set(order) for order in body["value"]] == [{"@odata.etag", "Id", "cust_Record"}] * 2


def test_comments_of_each_record_with_the_rest_behind_a_next_link(gw):
    body = gw.json("EXPCUST", params={"$top": "3", "$select": "Id", "$expand": "Comments"})
    first, second, third = body["value"]
    assert texts(first["Comments"]) == [f"c{n} on 1" for n in range(10)]
    rest = follow(gw.get(first["Comments@odata.nextLink"].split("/api.rsc/")[1]))
    assert texts([c for page in rest for c in page["value"]]) == ["c10 on 1", "c11 on 1"]
    assert texts(second["Comments"]) == ["c0 on 2", "c1 on 2", "c2 on 2"]
    assert "Comments@odata.nextLink" not in second and third["Comments"] == []


def test_nested_comment_options_travel_in_the_next_link(gw):
    body = gw.json("EXPCUST(1)", params={
        "$expand": "Comments($filter=contains(Text,'c1');$select=Text;$top=3)"})
    assert texts(body["Comments"]) == ["c1 on 1"]
    link = body["Comments@odata.nextLink"]
    assert "%24filter=" in link or "$filter=" in link
    rest = gw.json(link.split("/api.rsc/")[1])
    assert [c["Text"].strip() for c in rest["value"]] == ["c10 on 1", "c11 on 1"]
    assert set(rest["value"][0]) == {"Text"}


def test_lookup_expands_to_the_record_it_copies_from(gw):
    pages = follow(gw.get("EXPORDER", params={
        "$select": "Id,cust,cust_name", "$expand": "cust_Record($select=code,name)"}))
    orders = [order for page in pages for order in page["value"]]
    assert len(orders) == ORDERS
    for order in orders:
        related = order["cust_Record"]
        if not order["cust"]:
            assert related is None
        else:
            assert related["code"] == order["cust"] and related["name"] == order["cust_name"]
            assert set(related) == {"@odata.etag", "code", "name"}


def test_a_page_of_expanded_records_costs_one_call_per_record_at_most(gw):
    body, made = calls(gw, "EXPCUST", {"$expand": "Comments,lines_Rows"})
    assert len(body["value"]) == GatewaySettings.expand_page_size == 100
    assert "@odata.nextLink" in body
    assert made <= 100 + 2  # the comments of each record, and the records themselves
    body, made = calls(gw, "EXPORDER", {"$expand": "cust_Record"})
    assert len(body["value"]) == 100 and made <= 2  # the orders, one lookup of 100 values


def test_the_expand_page_size_is_a_setting(start_gateway, apps):
    gw = start_gateway(list(apps), expand_page_size=7)
    pages = follow(gw.get("EXPCUST", params={"$select": "Id", "$expand": "Comments($top=0)"}))
    assert [len(page["value"]) for page in pages[:2]] == [7, 7]
    assert [c["Id"] for page in pages for c in page["value"]] == list(range(1, CUSTOMERS + 1))


def test_expanded_pages_fit_in_the_request_budget(start_gateway, apps):
    gw = start_gateway(list(apps), calls_per_page=10, max_calls_per_request=60)
    body, made = calls(gw, "EXPCUST", {"$select": "Id", "$expand": "Comments"})
    assert len(body["value"]) == 50 and made <= 60  # 60 - 10 left for 50 records' comments
    body, made = calls(gw, "EXPVIEW", {"$select": "Id", "$expand": "Comments,orders"})
    assert len(body["value"]) == len(VIEWED) + 1 and made <= 60


def test_a_records_comments_by_url(gw, apps):
    body = gw.json("EXPCUST(1)/Comments", params={"$count": "true", "$select": "Id,Text"})
    assert body["@odata.count"] == 12 and texts(body["value"]) == [f"c{n} on 1" for n in range(12)]
    assert gw.json("EXPCUST(2)/Comments", params={"$filter": "Id gt 1"})["value"][0]["Id"] == 2
    paged = follow(gw.get("EXPCUST(1)/Comments", params={"$top": "7"},
                          headers={"Prefer": "odata.maxpagesize=5"}))
    assert [len(page["value"]) for page in paged] == [5, 2]
    assert gw.json("EXPCUST(3)/Comments")["value"] == []
    assert gw.get("EXPCUST(99999)/Comments").status_code == 404
    count = gw.get("EXPCUST(1)/Comments/$count", params={"$filter": "Id gt 3"})
    assert (count.status_code, count.text) == (200, "9")
    assert gw.get("EXPCUST(99999)/Comments/$count").status_code == 404
    assert gw.get("EXPCUST(1)/code/$count").status_code == 501


def test_subtable_rows_and_lookups_by_url(gw):
    customer = gw.json("EXPCUST(7)")
    rows = gw.json("EXPCUST(7)/lines_Rows", params={"$select": "item,qty"})["value"]
    assert rows == [{"item": r["item"], "qty": r["qty"]} for r in customer["lines"]] != []
    assert gw.json("EXPCUST(7)/lines_Rows", params={"$filter": "qty eq 2"})["value"] == [
        {"RecordId": 7, **row} for row in customer["lines"] if row["qty"] == 2]
    assert gw.get("EXPCUST(7)/lines_Rows/$count").text == str(len(customer["lines"]))
    order = gw.json("EXPORDER(2)", params={"$select": "cust,cust_name"})
    found = gw.json("EXPORDER(2)/cust_Record", params={"$select": "code,name"})
    assert (found["code"], found["name"]) == (order["cust"], order["cust_name"])
    assert found["@odata.context"].endswith("$metadata#EXPCUST(code,name)/$entity")
    assert gw.get("EXPORDER(1)/cust_Record").status_code == 204  # an empty lookup
    assert gw.get("EXPORDER(99999)/cust_Record").status_code == 404


@pytest.mark.parametrize(("expand", "status"), [
    ("nope", 400),
    ("Comments,Comments", 400),
    ("cust_Record($top=1)", 400),
    ("Comments($skip=1)", 501),
    ("Comments($orderby=Id desc)", 501),
    ("Comments($expand=x)", 501),
    ("Comments($filter=Nope eq 1)", 400),
    ("Comments($top=x)", 400),
    ("Comments(", 400),
    ("*", 501),
])
def test_bad_and_unsupported_expands(gw, expand, status):
    response = gw.get("EXPORDER", params={"$expand": expand})
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


def test_expanding_needs_the_right_to_read_the_target(start_gateway, server, apps):
    settings, token = add_user(Settings(kintone=kintone_settings(server.url, apps),
                                        gateway=GatewaySettings()),
                               "orders_only", Rights.parse("GET:EXPORDER"))
    gw = start_gateway(list(apps), sections=dict(settings.sections))
    as_limited = {"headers": {"X-Authtoken": token}}
    assert gw.get("EXPORDER", params={"$top": "1"}, **as_limited).status_code == 200
    for expand in ("cust_Record", "Comments"):
        response = gw.get("EXPORDER", params={"$expand": expand}, **as_limited)
        assert response.status_code == 403, expand
    assert gw.get("EXPORDER(1)/Comments", **as_limited).status_code == 403
    # Their $metadata leads nowhere they may not go.
    schema = gw.get("$metadata", params={"$format": "json"}, **as_limited).json()["Kintone"]
    assert [name for name, body in schema["EXPORDER"].items()
            if isinstance(body, dict) and body.get("$Kind") == "NavigationProperty"] == []


@pytest.fixture(scope="module")
def referenced(gw) -> dict[str, list[int]]:
    """The ids of the orders each customer code has above id 50 (the table's own condition),
    read from the orders set itself."""
    orders = [order for page in follow(gw.get("EXPORDER", params={"$select": "Id,cust"}))
              for order in page["value"]]
    by_code: dict[str, list[int]] = {}
    for order in orders:
        if order["cust"] and order["Id"] > 50:
            by_code.setdefault(order["cust"], []).append(order["Id"])
    return by_code


def test_reference_tables_are_navigation_properties(gw):
    schema = gw.json("$metadata", params={"$format": "json"})["Kintone"]
    assert schema["EXPVIEW"]["orders"] == {"$Kind": "NavigationProperty", "$Collection": True,
                                           "$Type": "Kintone.EXPORDER"}
    assert schema["Container"]["EXPVIEW"]["$NavigationPropertyBinding"]["orders"] == "EXPORDER"


def test_reference_table_expands_to_the_records_it_lists(gw, referenced):
    body, made = calls(gw, "EXPVIEW", {"$select": "code", "$expand": "orders($select=Id,cust)"})
    views = body["value"]
    assert len(views) == len(VIEWED) + 1 and made <= len(views) + 2
    for view in views:
        assert [o["Id"] for o in view["orders"]] == referenced.get(view["code"], []), view
        assert all(o["cust"] == view["code"] for o in view["orders"])
    assert any(view["orders"] for view in views)


def test_reference_table_with_nested_options_and_by_its_own_url(gw, referenced):
    code, ids = next((c, ids) for c, ids in sorted(referenced.items()) if len(ids) >= 2
                     and int(c[1:]) in VIEWED)
    record = list(VIEWED).index(int(code[1:])) + 1
    body = gw.json(f"EXPVIEW({record})", params={
        "$expand": "orders($select=Id;$orderby=Id desc;$top=1)"})
    assert [o["Id"] for o in body["orders"]] == [max(ids)]
    whole = gw.json(f"EXPVIEW({record})/orders", params={"$count": "true", "$select": "Id"})
    assert whole["@odata.count"] == len(ids) and [o["Id"] for o in whole["value"]] == ids
    assert gw.get(f"EXPVIEW({record})/orders/$count").text == str(len(ids))
    paged = follow(gw.get(f"EXPVIEW({record})/orders", params={"$select": "Id"},
                          headers={"Prefer": "odata.maxpagesize=3"}))
    assert [o["Id"] for page in paged for o in page["value"]] == ids and len(paged) > 2
    filtered = gw.json(f"EXPVIEW({record})", params={
        "$expand": f"orders($filter=Id ne {ids[0]};$select=Id)"})
    assert [o["Id"] for o in filtered["orders"]] == ids[1:]
    assert gw.json(f"EXPVIEW({len(VIEWED) + 1})/orders")["value"] == []  # no code, no orders


def test_reference_table_refuses_filters_kintone_cannot_answer(gw):
    response = gw.get("EXPVIEW", params={"$expand": "orders($filter=cust eq cust_name)"})
    assert response.status_code == 501, response.text
