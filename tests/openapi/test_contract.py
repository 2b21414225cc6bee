"""What the documents promise, checked one by one over HTTP on the demo data (issue 21): each
example is valid and accepted, the links from a created record lead to it, write bodies refuse
what the document does not allow, PUT is documented and replaces."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlencode

import jsonschema
import pytest
import requests

from tests.gateway.conftest import Gateway


@pytest.fixture(scope="module")
def oas3(demo_gateway: Gateway) -> dict:
    return demo_gateway.json("$oas", params={"version": "3"})


def schema_of(doc: dict, name: str) -> dict:
    """A component schema that resolves its references against the whole document."""
    return {**doc["components"]["schemas"][name], "components": doc["components"]}


def test_every_entity_and_write_body_has_a_valid_example(oas3: dict):
    schemas = oas3["components"]["schemas"]
    bodies = [n for n in schemas if n.rpartition("_")[2] in ("New", "Changes", "Upsert")]
    entities = [n for n in schemas if f"{n}_Page" in schemas]
    assert len(bodies) >= 7 and len(entities) >= 7
    for name in (*bodies, *entities):
        example = schemas[name].get("example")
        assert example, name
        jsonschema.Draft202012Validator(schema_of(oas3, name)).validate(example)


def _evaluate(expression: str, body: dict) -> str:
    """A link's runtime expression (``$response.body#/Id``, or one inside a string)."""
    pointer = "$response.body#/"
    if expression.startswith(pointer):
        return body[expression[len(pointer):]]
    start = expression.find("{" + pointer)
    if start < 0:
        return expression
    end = expression.index("}", start)
    inner = body[expression[start + 1 + len(pointer):end]]
    return f"{expression[:start]}{inner}{expression[end + 1:]}"


def _operations(doc: dict) -> dict[str, tuple[str, str, dict]]:
    return {op["operationId"]: (path, method, op) for path, item in doc["paths"].items()
            for method, op in item.items() if isinstance(op, dict) and "operationId" in op}


def test_the_links_of_a_created_record_lead_to_it(demo_gateway: Gateway, oas3: dict):
    operations = _operations(oas3)
    path, _, create = operations["CreateCustomers"]
    example = oas3["components"]["schemas"]["Customers_New"]["example"]
    created = requests.post(demo_gateway.url(path.lstrip("/")), json=example,
                            headers=demo_gateway.auth, timeout=30)
    assert created.status_code == 201, created.text
    links = create["responses"]["201"]["links"]
    assert set(links) == {"GetCustomers", "UpdateCustomers", "ReplaceCustomers",
                          "DeleteCustomers", "ListComments"}
    body = created.json()
    for name in ("GetCustomers", "ListComments", "UpdateCustomers", "DeleteCustomers"):
        change = {"notes": "changed"} if name == "UpdateCustomers" else None
        response = _follow(demo_gateway, operations, links[name], body, change)
        assert response.status_code in (200, 204), (name, response.text)
        if name == "ListComments":
            assert response.json()["value"] == []
        if name == "UpdateCustomers":  # the ETag moved on: the next link's If-Match is stale
            body["@odata.etag"] = response.headers["ETag"]
    assert requests.get(demo_gateway.url(f"CUSTOMERS({body['Id']})"),
                        headers=demo_gateway.auth, timeout=30).status_code == 404


def _follow(gw: Gateway, operations: dict, link: dict, body: dict,
            change: dict | None) -> requests.Response:
    """Calls the operation ``link`` leads to, from the response ``body`` it is on."""
    target, method, _ = operations[link["operationId"]]
    url, query, headers = target, {}, dict(gw.auth)
    for parameter, expression in link["parameters"].items():
        value = _evaluate(expression, body)
        if parameter.startswith("header."):
            headers[parameter[len("header."):]] = value
        elif "{" + parameter + "}" in url:
            url = url.replace("{" + parameter + "}", str(value))
        else:
            query[parameter] = value
    # Spaces as %20: the gateway reads a + as a plus, as OData has it.
    address = gw.url(url.lstrip("/")) + "?" + urlencode(query, quote_via=quote)
    return requests.request(method.upper(), address, json=change, headers=headers, timeout=30)


def test_the_links_of_a_record_lead_to_its_process_actions(demo_gateway: Gateway, oas3: dict):
    """ORDERS has process management: its records link to the documented bound actions, which
    run on the created record (as the demo's New state has it: yamamoto must approve)."""
    operations = _operations(oas3)
    assert operations["UpdateStatusOrders"][:2] == ("/ORDERS({Id})/Kintone.UpdateStatus",
                                                    "post")
    assert operations["SetAssigneesOrders"][:2] == ("/ORDERS({Id})/Kintone.SetAssignees",
                                                    "post")
    assert not any(name.startswith(("UpdateStatus", "SetAssignees")) and name.endswith(
        ("Customers", "Support")) for name in operations)  # no process: no actions
    path, _, create = operations["CreateOrders"]
    customer = demo_gateway.json("CUSTOMERS", params={"$top": "1"})["value"][0]
    example = {**oas3["components"]["schemas"]["Orders_New"]["example"],
               "customer_code": customer["customer_code"]}  # a lookup: an existing customer
    created = requests.post(demo_gateway.url(path.lstrip("/")), json=example,
                            headers=demo_gateway.auth, timeout=30)
    assert created.status_code == 201, created.text
    try:
        _run_actions_through_links(demo_gateway, operations, create, created.json())
    finally:  # the demo's other tests count its orders
        requests.delete(demo_gateway.url(f"ORDERS({created.json()['Id']})"),
                        headers=demo_gateway.auth, timeout=30)


def _run_actions_through_links(demo_gateway: Gateway, operations: dict, create: dict,
                               body: dict) -> None:
    for source in (create["responses"]["201"], operations["GetOrders"][2]["responses"]["200"]):
        assert {"UpdateStatusOrders", "SetAssigneesOrders"} <= set(source["links"])
    links = create["responses"]["201"]["links"]
    assigned = _follow(demo_gateway, operations, links["SetAssigneesOrders"], body,
                       {"Assignees": ["yamamoto"]})
    assert assigned.status_code == 204, assigned.text
    stale = _follow(demo_gateway, operations, links["UpdateStatusOrders"], body,
                    {"Action": "Approve", "Assignee": "kobayashi"})
    assert stale.status_code == 412, stale.text  # the link's If-Match is the record as created
    body["@odata.etag"] = assigned.headers["ETag"]
    response = _follow(demo_gateway, operations, links["UpdateStatusOrders"], body,
                       {"Action": "Approve", "Assignee": "kobayashi"})
    # The gateway's demo user is not yamamoto: Kintone's refusal, translated (never a 500).
    assert response.status_code in (204, 400, 403), response.text


@pytest.mark.parametrize(("path", "body", "target"), [
    ("SUPPORT", {"件名": "x", "extra": 1}, "extra"),
    ("Comments", {"AppId": 1, "RecordId": 1, "Text": "x", "extra": 1}, "extra"),
    ("Comments", {"AppId": 1, "RecordId": 1, "Text": "x", "Mentions": {}}, "Mentions"),
    ("Comments", {"AppId": 1, "RecordId": 1, "Text": "x", "Mentions": [{"Code": "demo",
                                                                       "Type": None}]},
     "Mentions[0]"),
    ("Comments", {"AppId": 1, "RecordId": 0, "Text": "x"}, "RecordId"),
    ("CUSTOMERS", {"customer_code": "C-X1", "company_name": "x",
                   "contacts": [{"RowId": 0, "contact_name": "x"}]}, "contacts[0]/RowId"),
])
def test_write_bodies_refuse_what_the_document_does_not_allow(demo_gateway: Gateway, oas3: dict,
                                                              path, body, target):
    response = requests.post(demo_gateway.url(path), json=body, headers=demo_gateway.auth,
                             timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["target"] == target
    name = {"SUPPORT": "Support_New", "Comments": "Comment_New",
            "CUSTOMERS": "Customers_New"}[path]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema_of(oas3, name)).validate(body)


def test_a_comment_of_an_app_not_exposed_is_not_found(demo_gateway: Gateway):
    response = demo_gateway.get("Comments(AppId=99999,RecordId=1,Id=1)")
    assert response.status_code == 404, response.text


def a_support_case(gw: Gateway, **values: str) -> requests.Response:
    """A new SUPPORT record, for a customer of the demo data (its lookup needs one)."""
    customer = gw.json("CUSTOMERS", params={"$top": "1"})["value"][0]["customer_code"]
    return requests.post(gw.url("SUPPORT"), json={"顧客コード": customer, **values},
                         headers=gw.auth, timeout=30)


def test_put_is_documented_and_replaces(demo_gateway: Gateway, oas: dict):
    put = oas["paths"]["/SUPPORT({Id})"]["put"]
    assert put["operationId"] == "ReplaceSupport"
    assert put["parameters"][-1]["schema"] == {"$ref": "#/definitions/Support_New"}
    created = a_support_case(demo_gateway, 件名="a", 回答="b").json()
    url = demo_gateway.url(f"SUPPORT({created['Id']})")
    replaced = requests.put(url, json={"件名": "c", "顧客コード": created["顧客コード"]},
                            headers=demo_gateway.auth, timeout=30)
    assert replaced.status_code == 204, replaced.text
    after = demo_gateway.json(f"SUPPORT({created['Id']})")
    assert after["件名"] == "c" and not after["回答"]
    requests.delete(url, headers=demo_gateway.auth, timeout=30)


def test_a_header_naming_a_japanese_property_is_percent_encoded(demo_gateway: Gateway):
    # Kintone keeps minutes: the seconds are cut and the property named in Kintone-Truncated.
    response = a_support_case(demo_gateway, 件名="x", 受付日時="2024-04-01T09:30:15Z")
    assert response.status_code == 201, response.text
    value = response.headers["Kintone-Truncated"]
    assert value.isascii() and unquote(value) == "受付日時"
    requests.delete(demo_gateway.url(f"SUPPORT({response.json()['Id']})"),
                    headers=demo_gateway.auth, timeout=30)
