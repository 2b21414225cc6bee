"""The served documents: valid for both OpenAPI versions and for Microsoft's connector schema,
following the operation contract, on the demo data and on an app with every field type and
Japanese names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import requests

from tests.gateway.conftest import Gateway
from tests.openapi.checks import MAX_SIZE, assert_valid, contract_problems, operations
from tests.openapi.conftest import with_openapi


def field(ftype: str, code: str, **settings) -> dict:
    return {"type": ftype, "code": code, "label": f"{code}のラベル", **settings}


def options(*keys: str) -> dict:
    return {key: {"label": key, "index": str(i)} for i, key in enumerate(keys)}


def by_code(*fields: dict) -> dict:
    return {f["code"]: f for f in fields}


def every_type(related_app: int) -> dict:
    return by_code(
        field("SINGLE_LINE_TEXT", "顧客番号", unique=True, required=True),
        field("NUMBER", "社員番号", unique=True),
        field("MULTI_LINE_TEXT", "備考"),
        field("RICH_TEXT", "本文"),
        field("LINK", "ウェブ", protocol="WEB"),
        field("NUMBER", "金額", unit="円", unitPosition="AFTER"),
        *(field("CALC", f"計算_{fmt}", expression="金額 * 2", format=fmt)
          for fmt in ("NUMBER", "NUMBER_DIGIT", "DATE", "DATETIME", "TIME", "HOUR_MINUTE",
                      "DAY_HOUR_MINUTE")),
        field("DATE", "日付"),
        field("TIME", "時刻"),
        field("DATETIME", "日時"),
        field("DROP_DOWN", "区分", options=options("甲", "乙")),
        field("RADIO_BUTTON", "種別", options=options("A", "B"), defaultValue="A",
              required=True),
        field("CHECK_BOX", "チェック", options=options("x", "y")),
        field("MULTI_SELECT", "複数選択", options=options("m", "n")),
        field("USER_SELECT", "担当者"),
        field("ORGANIZATION_SELECT", "部署"),
        field("GROUP_SELECT", "グループ"),
        field("FILE", "添付"),
        field("SINGLE_LINE_TEXT", "参照キー", lookup={
            "relatedApp": {"app": str(related_app)}, "relatedKeyField": "code",
            "fieldMappings": [{"field": "参照名", "relatedField": "name"}],
            "lookupPickerFields": ["code"], "filterCond": "", "sort": "",
        }),
        field("SINGLE_LINE_TEXT", "参照名"),
        field("REFERENCE_TABLE", "関連レコード", referenceTable={
            "relatedApp": {"app": str(related_app)},
            "condition": {"field": "顧客番号", "relatedField": "code"},
            "displayFields": ["name"], "filterCond": "", "sort": "", "size": "5",
        }),
        field("GROUP", "グループ枠"),
        field("SUBTABLE", "明細", fields=by_code(
            field("SINGLE_LINE_TEXT", "品名"), field("NUMBER", "数量"), field("DATE", "納期"),
            field("USER_SELECT", "確認者"), field("FILE", "図面"))),
        field("SUBTABLE", "items", fields=by_code(field("SINGLE_LINE_TEXT", "sku"))),
    )


PROCESS = {
    "enable": True,
    "states": {"未処理": {"name": "未処理", "index": "0", "assignee": {
        "type": "ONE", "entities": [{"entity": {"type": "USER", "code": "admin"}}]}},
               "完了": {"name": "完了", "index": "1", "assignee": {"type": "ONE",
                                                                 "entities": []}}},
    "actions": [{"name": "完了にする", "from": "未処理", "to": "完了", "filterCond": ""}],
}


@pytest.fixture(scope="module")
def typed(make_app: Callable, start_gateway: Callable) -> Gateway:
    related, _ = make_app(by_code(field("SINGLE_LINE_TEXT", "code"),
                                  field("SINGLE_LINE_TEXT", "name")), name="参照先")
    app, _ = make_app(every_type(related), name="全項目 テスト", process=PROCESS)
    return with_openapi(start_gateway([app, related]))


SET = "全項目テスト"


def ascii_name(doc: dict) -> str:
    """``App<id>``: what the operations of the Japanese set are named after."""
    return doc["paths"][f"/{SET}"]["get"]["operationId"].removeprefix("List")


@pytest.mark.parametrize("fixture", ["demo_gateway", "typed"])
def test_every_document_is_valid(fixture: str, request: pytest.FixtureRequest):
    gw: Gateway = request.getfixturevalue(fixture)
    assert_valid(gw.json("$oas"), gw.json("$oas", params={"version": "3"}))


def test_japanese_names_keep_ascii_operation_ids(typed: Gateway):
    doc = typed.json("$oas")
    name = ascii_name(doc)
    assert name.startswith("App") and name[3:].isdigit()
    paths = {op["operationId"]: path for path, _, op in operations(doc)}
    assert doc["paths"][f"/{SET}"]["get"]["summary"] == f"List {SET} records"
    assert paths[f"Upsert{name}"] == f"/{SET}(顧客番号='{{Key}}')"
    assert paths[f"Upsert{name}By2"] == f"/{SET}(社員番号={{Key}})"
    assert paths[f"List{name}Items"] == f"/{SET}_items"
    assert paths[f"List{name}Table1"] == f"/{SET}_明細"
    entity = doc["definitions"][name]["properties"]
    assert entity["顧客番号"]["x-ms-summary"] == "顧客番号のラベル"
    assert entity["金額"] == {"type": "number", "x-nullable": True,
                            "x-ms-summary": "金額のラベル",
                            "description": "Kintone field 金額 (NUMBER)."}
    assert entity["明細"]["items"]["properties"]["確認者"]["items"]["properties"]["Code"]


def test_write_bodies_hold_only_writable_fields(typed: Gateway):
    doc = typed.json("$oas")
    name = ascii_name(doc)
    new = doc["definitions"][f"{name}_New"]
    changes = doc["definitions"][f"{name}_Changes"]
    writable = set(new["properties"])
    assert {"顧客番号", "金額", "日時", "担当者", "参照キー", "添付", "明細"} <= writable
    computed = {"Id", "Revision", "計算_NUMBER", "参照名", "Status", "Assignee",
                "Record_number", "Created_by"}
    assert computed <= set(doc["definitions"][name]["properties"])
    assert not writable & computed
    assert new["required"] == ["顧客番号"]  # 種別 is required but has a default
    assert "required" not in changes and set(changes["properties"]) == writable
    assert set(new["properties"]["明細"]["items"]["properties"]) == {
        "RowId", "品名", "数量", "納期", "確認者", "図面"}


def test_demo_document_follows_the_operation_contract(oas: dict):
    ops = {op["operationId"]: (method, path) for path, method, op in operations(oas)}
    assert ops["ListCustomers"] == ("get", "/CUSTOMERS")
    assert ops["GetCustomers"] == ("get", "/CUSTOMERS({Id})")
    assert ops["CreateCustomers"] == ("post", "/CUSTOMERS")
    assert ops["UpdateCustomers"] == ("patch", "/CUSTOMERS({Id})")
    assert ops["UpsertCustomers"] == ("patch", "/CUSTOMERS(customer_code='{Key}')")
    assert ops["DeleteCustomers"] == ("delete", "/CUSTOMERS({Id})")
    assert ops["GetCountCustomers"] == ("get", "/CUSTOMERS/$count")
    assert "UpsertOrders" not in ops  # its customer_code is a lookup, not unique
    assert ops["ListCustomersContacts"] == ("get", "/CUSTOMERS_contacts")
    assert "CreateCustomersContacts" not in ops
    assert ops["ListComments"] == ("get", "/Comments")
    assert ops["CreateComment"] == ("post", "/Comments")
    assert ops["DeleteComment"] == ("delete",
                                    "/Comments(AppId={AppId},RecordId={RecordId},Id={Id})")
    assert ops["GetField"] == ("get", "/Fields(AppId={AppId},Code='{Code}')")
    assert {"ListApps", "GetApp", "ListFields", "GetApiDefinition"} <= set(ops)


def test_list_operations_have_the_query_options_and_a_typed_page(oas: dict):
    list_customers = oas["paths"]["/CUSTOMERS"]["get"]
    # $select is the set's own: its pattern lists the set's property names.
    options = [oas["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
               for p in list_customers["parameters"]]
    assert [o["name"] for o in options] == ["$filter", "$select", "$orderby", "$top", "$skip",
                                            "$count"]
    for option in options:
        assert option["x-ms-summary"]
        assert option["x-ms-visibility"] in ("important", "advanced")
    assert re.fullmatch(options[1]["pattern"], "Id,customer_code")
    assert not re.fullmatch(options[1]["pattern"], "Id,nope")
    assert list_customers["x-ms-pageable"] == {"nextLinkName": "@odata.nextLink"}
    page = oas["definitions"]["Customers_Page"]["properties"]
    assert set(page) == {"@odata.context", "@odata.count", "@odata.nextLink", "value"}
    assert page["value"]["items"] == {"$ref": "#/definitions/Customers"}
    comments = oas["paths"]["/Comments"]["get"]
    assert comments["summary"] == "List comments"
    assert oas["parameters"]["comment_filter"]["required"] is True


def test_responses_have_schemas_and_odata_errors(oas: dict):
    update = oas["paths"]["/CUSTOMERS({Id})"]["patch"]
    assert {"$ref": "#/parameters/if_match"} in update["parameters"]
    assert update["responses"]["412"] == {"$ref": "#/responses/PreconditionFailed"}
    assert oas["paths"]["/CUSTOMERS"]["post"]["responses"]["201"]["schema"] == {
        "$ref": "#/definitions/Customers"}
    assert oas["paths"]["/CUSTOMERS({Id})"]["delete"]["responses"]["204"]
    for response in oas["responses"].values():
        assert response["schema"] == {"$ref": "#/definitions/Gateway_ODataError"}
    error = oas["definitions"]["Gateway_ODataError"]
    assert error["required"] == ["error"]
    body = oas["definitions"]["Gateway_ODataErrorBody"]
    assert set(body["properties"]) == {"code", "message", "target", "details"}


def test_security_comes_basic_first_then_the_authtoken_headers(oas: dict):
    definitions = oas["securityDefinitions"]
    assert [(d["type"], d.get("name")) for d in definitions.values()] == [
        ("basic", None), ("apiKey", "X-Authtoken"), ("apiKey", "x-cdata-authtoken")]
    assert oas["security"] == [{name: []} for name in definitions]


def test_version_3_is_openapi_31_of_the_same_api(demo_gateway: Gateway, oas: dict):
    doc = demo_gateway.json("$oas", params={"version": "3.1"})
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": demo_gateway.root}]
    ids2 = [op["operationId"] for _, _, op in operations(oas)]
    assert [op["operationId"] for _, _, op in operations(doc)] == ids2
    create = doc["paths"]["/CUSTOMERS"]["post"]["requestBody"]
    assert create["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Customers_New"}
    website = doc["components"]["schemas"]["Customers"]["properties"]["website"]
    assert website["type"] == ["string", "null"]
    assert doc["components"]["securitySchemes"]["basic"]["scheme"] == "basic"


def test_scoping_keeps_the_named_sets_and_their_subtables(demo_gateway: Gateway, oas: dict):
    doc = demo_gateway.json("$oas", params={"sets": "CUSTOMERS,Comments"})
    assert [t["name"] for t in doc["tags"]] == ["Gateway", "Comments", "CUSTOMERS",
                                                 "CUSTOMERS_contacts"]
    assert "/ORDERS" not in doc["paths"] and "Orders" not in doc["definitions"]
    assert doc["paths"]["/CUSTOMERS"] == oas["paths"]["/CUSTOMERS"]
    assert contract_problems(doc) == []
    assert len(json.dumps(oas).encode()) < MAX_SIZE


def test_unknown_set_or_version_is_an_odata_400(demo_gateway: Gateway):
    for params, target in (({"sets": "CUSTOMERS,Nope"}, "sets"), ({"version": "4"}, "version")):
        response = demo_gateway.get("$oas", params=params)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "BadRequest" and error["target"] == target


def test_aliases_cors_and_the_token_in_the_path(demo_gateway: Gateway, oas: dict):
    swagger = demo_gateway.get("$swagger")
    assert swagger.json() == oas
    assert swagger.headers["Access-Control-Allow-Origin"] == "*"
    # Revalidated (issue 18), and kept by no shared cache; with the token in the URL, by none.
    assert swagger.headers["Cache-Control"] == "private, no-cache"
    token = demo_gateway.token
    anonymous = requests.get(demo_gateway.url(f"@{token}/$oas"), timeout=30)
    assert anonymous.json()["basePath"] == f"/api.rsc/@{token}"
    assert anonymous.headers["Cache-Control"] == "no-store"
    versioned = requests.get(demo_gateway.url(f"@{token}/$swagger?version=3"), timeout=30)
    assert versioned.json()["servers"] == [{"url": f"{demo_gateway.root}/@{token}"}]
    refused = requests.get(demo_gateway.url("$oas"), timeout=30)
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == "*"
    basic = requests.get(demo_gateway.url("$oas"), auth=("test", token), timeout=30)
    assert basic.json() == oas


def test_host_comes_from_the_request_or_public_url(start_gateway: Callable, demo_kintone):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    plain = with_openapi(start_gateway([], kintone=demo_kintone))
    doc = plain.get("$oas", headers=forwarded).json()
    assert (doc["schemes"], doc["host"]) == (["http"], plain.root.split("/")[2])
    public = with_openapi(start_gateway([], kintone=demo_kintone,
                                        public_url="https://gw.example.com/kintone"))
    doc = public.get("$oas", headers=forwarded).json()
    assert (doc["schemes"], doc["host"], doc["basePath"]) == (
        ["https"], "gw.example.com", "/kintone/api.rsc")


def test_docs_page_is_served_without_a_cdn(demo_gateway: Gateway):
    page = demo_gateway.get("$docs", allow_redirects=True)
    assert page.status_code == 200 and page.url.endswith("/api.rsc/$docs/")
    assert "swagger-ui-bundle.js" in page.text and "http" not in page.text
    # Without its own policy the gateway's default-src 'none' leaves the page blank.
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-initializer.js"):
        response = demo_gateway.get(f"$docs/{asset}")
        assert response.status_code == 200 and response.content
    initializer = demo_gateway.get("$docs/swagger-initializer.js").text
    assert 'new URL("../$oas", document.baseURI)' in initializer


def test_docs_page_under_a_token_sends_the_browser_to_the_login_page(demo_gateway: Gateway):
    # Served under /@TOKEN/ the page would request $oas and run "Try it out" with the token in
    # every URL; it answers 303 to the plain page instead, setting no cookie.
    plain = urlsplit(demo_gateway.url("$docs/")).path
    for tail in ("$docs", "$docs/", "$docs/swagger-initializer.js"):
        url = f"{demo_gateway.root}/@{demo_gateway.token}/{tail}"
        response = requests.get(url, allow_redirects=False, timeout=30)
        assert response.status_code == 303, (tail, response.status_code)
        assert urlsplit(response.headers["Location"]).path == plain
        assert demo_gateway.token not in response.text and "authtoken" in response.text
        assert "Set-Cookie" not in response.headers
