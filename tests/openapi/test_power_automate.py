"""Power Automate end to end, without Power Automate: how the designer fetches the document
(a document-only capability URL, or [Application] PublicApiDocument; any origin's preflight),
$oas's 401 that lets a browser log in, the typed document at Power Automate's 1 MB limit, the
dynamic connector document and the record schemas behind it, and `connector export`."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate

from gateway.cli import main
from gateway.http.context import EXTENSION
from gateway.sandbox import Sandbox, SandboxServer
from gateway.security.documents import capability
from gateway.security.redaction import redact
from gateway.settings import Section
from tests.conftest import ADMIN
from tests.gateway.conftest import Gateway, kintone_settings
from tests.openapi.checks import (
    contract_problems,
    guidance_problems,
    ms_errors,
    paconn_properties_validator,
)
from tests.openapi.test_swagger_client import swagger_client  # noqa: F401 (a fixture)

APPS = 200
DYNAMIC_LIMIT = 100_000
TYPED_LIMIT = 1_000_000
KINDS = ("Standard", "Premium", "Trial")


def tenant_fields(number: int) -> dict:
    """A small but realistic app: text, numbers, dates, choices, a subtable."""
    def field(ftype: str, code: str, **more: object) -> dict:
        return {"type": ftype, "code": code, "label": f"{code.replace('_', ' ')}", **more}

    options = {kind: {"label": kind, "index": str(i)} for i, kind in enumerate(KINDS)}
    fields = [
        field("SINGLE_LINE_TEXT", "code", unique=True),
        field("SINGLE_LINE_TEXT", "name", required=True),
        field("NUMBER", "amount"), field("DATE", "due_date"), field("DATETIME", "met_at"),
        field("DROP_DOWN", "kind", options=options),
        field("RADIO_BUTTON", "priority", options=options, defaultValue="Standard"),
        field("CHECK_BOX", "tags", options=options),
        field("MULTI_LINE_TEXT", "notes"), field("USER_SELECT", "owner"),
        field("SUBTABLE", "lines", fields={
            "item": field("SINGLE_LINE_TEXT", "item"), "qty": field("NUMBER", "qty")}),
    ]
    return {f["code"]: f for f in fields}


@pytest.fixture(scope="module")
def tenant() -> Iterator[SandboxServer]:
    """A sandbox of its own with 200 apps (the shared one must stay small for other suites)."""
    sandbox = Sandbox()
    sandbox.directory.add_user(*ADMIN, "Administrator User")
    server = SandboxServer(sandbox).start()
    with requests.Session() as session:
        for number in range(1, APPS + 1):
            response = session.post(f"{server.url}/__sandbox/apps", timeout=60, json={
                "name": f"Tenant app {number}", "code": f"T{number:03d}",
                "fields": tenant_fields(number)})
            assert response.status_code == 200, response.text
    yield server
    server.stop()


@pytest.fixture(scope="module")
def big(start_gateway: Callable[..., Gateway], tenant: SandboxServer) -> Gateway:
    return start_gateway([], kintone=kintone_settings(tenant.url))


def settings_of(gw: Gateway):
    return gw.app.extensions[EXTENSION].settings


def size(response: requests.Response) -> int:
    return len(response.content)


# --- fetching the document -----------------------------------------------------------------


def test_oas_401_asks_for_basic_credentials(demo_gateway: Gateway):
    response = requests.get(demo_gateway.url("$oas"), timeout=30)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.json()["error"]["code"] == "Unauthorized"


def test_a_capability_url_fetches_the_document_and_nothing_else(demo_gateway: Gateway):
    settings = settings_of(demo_gateway)
    access = capability(settings, "test", int(time.time()) + 600)
    document = requests.get(demo_gateway.url("$oas"), params={"access": access}, timeout=60)
    assert document.status_code == 200 and document.json()["swagger"] == "2.0"
    assert document.headers["Access-Control-Allow-Origin"] == "*"
    dynamic = requests.get(demo_gateway.url("$oas"), timeout=60,
                           params={"access": access, "dynamic": "true"})
    assert dynamic.status_code == 200 and "GetRecordSchema" in dynamic.text
    # No data, no other URL, no forged, expired or foreign signature.
    for path in ("CUSTOMERS", "$schema", "$metadata"):
        refused = requests.get(demo_gateway.url(path), params={"access": access}, timeout=30)
        assert refused.status_code == 401, path
    expired = capability(settings, "test", int(time.time()) - 1)
    forged = access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    other_user = "admin" + access[access.index("."):]
    for bad in (expired, forged, other_user, "test.notanumber.x", "nonsense"):
        refused = requests.get(demo_gateway.url("$oas"), params={"access": bad}, timeout=30)
        assert refused.status_code == 401, bad
        assert refused.json()["error"]["code"] == "Unauthorized"


def test_any_origin_may_preflight_the_document(demo_gateway: Gateway):
    for path in ("$oas", "$swagger"):
        response = requests.options(demo_gateway.url(path), timeout=30, headers={
            "Origin": "https://make.powerautomate.com", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept"})
        assert response.status_code == 204, path
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in response.headers["Access-Control-Allow-Methods"]
    # Other URLs keep [CORS] AllowedOrigins (none by default).
    data = requests.options(demo_gateway.url("CUSTOMERS"), timeout=30, headers={
        "Origin": "https://make.powerautomate.com", "Access-Control-Request-Method": "GET"})
    assert data.status_code == 403


def test_public_api_document_is_off_by_default_and_opens_only_the_document(
        start_gateway: Callable[..., Gateway], demo_kintone):
    public = start_gateway([], kintone=demo_kintone, sections={
        "application": Section("application", {"publicapidocument": "true"})})
    assert requests.get(public.url("$oas"), timeout=60).status_code == 200
    assert requests.get(public.url("CUSTOMERS"), timeout=30).status_code == 401
    wrong = requests.get(public.url("$oas"), headers={"X-Authtoken": "wrong"}, timeout=30)
    assert wrong.status_code == 401  # credentials given are still checked


def test_oas_url_command_prints_a_working_url(demo_gateway: Gateway, tmp_path: Path,
                                              capsys: pytest.CaptureFixture):
    settings = settings_of(demo_gateway)
    config = tmp_path / "settings.cfg"
    security = settings.section("Security")
    config.write_text(f"[kintone]\nUrl = https://example.cybozu.com\nAuthScheme = password\n"
                      "User = u\nPassword = p\n"
                      f"[Security]\nTokenKey = {security.get('TokenKey')}\n"
                      f"[Users]\ntest = {settings.section('Users').get('test')}\n")
    assert main(["oas-url", "--user", "test", "--days", "1", "--config", str(config),
                 "--url", demo_gateway.root.removesuffix("/api.rsc"), "--sets", "ORDERS"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("swagger: ")
    document = requests.get(line.removeprefix("swagger: "), timeout=60)
    assert document.status_code == 200
    assert "/ORDERS" in document.json()["paths"] and "/CUSTOMERS" not in document.json()["paths"]
    with pytest.raises(SystemExit, match="no user"):
        main(["oas-url", "--user", "nobody", "--config", str(config)])


# --- what the documents contain --------------------------------------------------------------


def test_webhook_triggers_only_with_a_webhook_secret(oas: dict, start_gateway, demo_kintone):
    assert not [path for path in oas["paths"] if "/webhooks/" in path]
    assert any("x-ms-trigger" in op for item in oas["paths"].values() for op in item.values()
               if isinstance(op, dict))  # the polling triggers stay
    secret = Section("triggers", {"database": ":memory:",
                                  "webhooksecret": "a-webhook-secret-0123456789"})
    with_secret = start_gateway([], kintone=demo_kintone, sections={"triggers": secret})
    doc = with_secret.json("$oas")
    assert "/$triggers/CUSTOMERS/webhooks/added" in doc["paths"]
    assert doc["paths"]["/$triggers/CUSTOMERS/webhooks/added"]["post"]["description"].startswith(
        "This operation triggers when a record is added")
    assert ms_errors(doc) == [] and guidance_problems(doc) == []


def test_choices_are_enums_with_display_names(oas: dict):
    product = oas["definitions"]["Orders"]["properties"]["product"]
    assert product["enum"][:2] == ["Starter plan", "Standard plan"]
    assert product["x-ms-enum-values"][0] == {"value": "Starter plan",
                                              "displayName": "Starter plan"}
    # STATUS: the states of the app's process, in order.
    status = oas["definitions"]["Orders"]["properties"]["Status"]
    assert status["enum"] == ["New", "Approved", "Shipped", "Closed"]


def test_count_is_declared_as_text(oas: dict):
    count = oas["paths"]["/CUSTOMERS/$count"]["get"]
    assert count["produces"][0] == "text/plain"
    assert count["responses"]["200"]["schema"]["type"] == "string"


def test_dynamic_document_is_valid_and_small(demo_gateway: Gateway):
    doc = demo_gateway.json("$oas", params={"dynamic": "true"})
    validate(doc)
    assert ms_errors(doc) == [] and contract_problems(doc) == [] and guidance_problems(doc) == []
    ops = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()
           if isinstance(op, dict) and "operationId" in op}
    assert {"GetTables", "GetKeyFields", "GetRecordSchema", "ListRecords", "GetRecord",
            "AddRecord", "UpsertRecord",
            "UpdateRecord", "DeleteRecord", "AddComment", "UpdateStatus"} <= set(ops)
    picker = ops["AddRecord"]["parameters"][0]
    assert picker["x-ms-dynamic-values"]["operationId"] == "GetTables"
    body = ops["AddRecord"]["parameters"][1]["schema"]["x-ms-dynamic-schema"]
    assert body["operationId"] == "GetRecordSchema" and body["value-path"] == "schema"


def test_record_schemas_for_the_dynamic_document(demo_gateway: Gateway):
    tables = demo_gateway.json("$schema")["value"]
    assert [t["Name"] for t in tables] == ["CUSTOMERS", "ORDERS", "SUPPORT"]
    create = demo_gateway.json("$schema/ORDERS", params={"for": "create"})["schema"]
    assert create["properties"]["product"]["enum"][0] == "Starter plan"
    assert create["properties"]["customer_code"]["x-ms-summary"] == "Customer Code"
    assert "Id" not in create["properties"]  # not writable
    read = demo_gateway.json("$schema/ORDERS")["schema"]
    assert "Id" in read["properties"] and "@odata.etag" in read["properties"]
    # STATUS: the states of the app's process, in order.
    assert read["properties"]["Status"]["enum"] == ["New", "Approved", "Shipped", "Closed"]
    assert "enum" not in demo_gateway.json("$schema/CUSTOMERS")["schema"]["properties"].get(
        "Status", {})
    keys = demo_gateway.json("$schema/CUSTOMERS/keys")["value"]
    assert {"Name": "customer_code", "Title": "Customer code"} in keys
    assert demo_gateway.get("$schema/ORDERS", params={"for": "x"}).status_code == 400
    assert demo_gateway.get("$schema/Apps").status_code == 400
    assert demo_gateway.get("$schema/NoSuchSet").status_code == 404
    assert requests.get(demo_gateway.url("$schema"), timeout=30).status_code == 401


# --- a 200-app tenant ------------------------------------------------------------------------


def test_typed_document_at_the_1_mb_limit(big: Gateway, demo_gateway: Gateway):
    whole = big.get("$oas")
    assert whole.status_code == 400, size(whole)
    error = whole.json()["error"]
    assert error["code"] == "DocumentTooLarge" and error["target"] == "sets"
    assert "?sets=" in error["message"] and "?dynamic=true" in error["message"]
    some = big.get("$oas", params={"sets": ",".join(f"T{n:03d}" for n in range(1, 11))})
    assert some.status_code == 200 and size(some) < TYPED_LIMIT
    assert ms_errors(some.json()) == []
    # OpenAPI 3.1 is not for Power Automate: no limit.
    assert big.get("$oas", params={"version": "3"}).status_code == 200
    print(f"\ntyped $oas: 3 apps {size(demo_gateway.get('$oas'))} bytes, 10 of 200 apps "
          f"{size(some)} bytes")


def test_dynamic_document_for_200_apps(big: Gateway):
    response = big.get("$oas", params={"dynamic": "true"})
    assert response.status_code == 200 and size(response) < DYNAMIC_LIMIT
    assert ms_errors(response.json()) == []
    assert len(big.json("$schema")["value"]) == APPS
    print(f"\ndynamic $oas for {APPS} apps: {size(response)} bytes")


# --- connector export ------------------------------------------------------------------------


def connector_config(tmp_path: Path, kintone_url: str) -> Path:
    config = tmp_path / "settings.cfg"
    config.write_text(f"[kintone]\nUrl = {kintone_url}\nAuthScheme = password\n"
                      f"User = {ADMIN[0]}\nPassword = {ADMIN[1]}\n"
                      "[gateway]\nPublicURL = https://gw.example.com/kintone\n"
                      "[Triggers]\nWebhookSecret = a-webhook-secret-0123456789\n")
    return config


@pytest.mark.parametrize("options", [["--dynamic"], ["--sets", "T001,T002"]])
def test_connector_export_writes_a_valid_paconn_folder(options: list[str], tenant: SandboxServer,
                                                       tmp_path: Path):
    out = tmp_path / "connector"
    config = connector_config(tmp_path, tenant.url)
    assert main(["connector", "export", str(out), "--config", str(config), *options]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "apiDefinition.swagger.json",
                                                     "apiProperties.json"]
    definition = json.loads((out / "apiDefinition.swagger.json").read_text(encoding="utf-8"))
    validate(definition)
    assert ms_errors(definition) == [] and guidance_problems(definition) == []
    assert (definition["host"], definition["basePath"]) == ("gw.example.com", "/kintone/api.rsc")
    assert any("/webhooks/" in path for path in definition["paths"])
    properties = json.loads((out / "apiProperties.json").read_text(encoding="utf-8"))
    paconn_properties_validator().validate(properties)
    assert set(properties["properties"]["connectionParameters"]) == {"username", "password"}
    assert "paconn create" in (out / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                    reason="Node.js and npm are needed to run swagger-client")
def test_swagger_client_runs_the_dynamic_path(swagger_client: Callable[..., dict],  # noqa: F811
                                              big: Gateway):
    """List apps → schema of one → add a record with a drop-down value → read it back, as a
    custom connector imported from the dynamic document does, on the 200-app tenant."""
    record = {"code": "PA'1", "name": "O'Brien & Co."}
    steps = swagger_client(big.url("$oas?dynamic=true"), "dynamic",
                           json.dumps({"app": "Tenant app 137 ", "record": record}),
                           "test", big.token)["steps"]
    assert steps["tables"]["status"] == 200 and len(steps["tables"]["body"]["value"]) == APPS
    schema = steps["schema"]["body"]["schema"]
    assert schema["properties"]["kind"]["enum"] == list(KINDS)
    assert steps["add"]["status"] == 201, steps["add"]
    assert steps["sent"]["kind"] == KINDS[-1]
    got = steps["get"]["body"]
    assert (got["code"], got["name"], got["kind"]) == ("PA'1", "O'Brien & Co.", KINDS[-1])
    assert got["Id"] == steps["add"]["body"]["Id"]
    # The upsert's key picker, and the key (with a quote) through the key template.
    assert steps["keys"]["body"]["value"] == [{"Name": "code", "Title": "code"}]
    assert steps["upsert"]["status"] in (200, 204), steps["upsert"]
    assert steps["after"]["body"]["name"] == "Upserted"


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                    reason="Node.js and npm are needed to run swagger-client")
def test_a_key_with_quotes_goes_through_the_key_template(
        swagger_client: Callable[..., dict], demo_gateway: Gateway):  # noqa: F811
    """swagger-client puts O'Brien into ``CUSTOMERS(customer_code='{Key}')`` as is."""
    steps = swagger_client(demo_gateway.url("$oas"), "upsert", "O'Brien-1", "test",
                           demo_gateway.token)["steps"]
    assert steps["created"]["status"] == 201, steps["created"]
    assert steps["changed"]["status"] in (200, 204), steps["changed"]
    (found,) = steps["listed"]["body"]["value"]
    assert (found["customer_code"], found["company_name"]) == ("O'Brien-1", "Q2")
    # A valid OData literal keeps its meaning: the same record.
    escaped = requests.patch(demo_gateway.url("CUSTOMERS(customer_code='O''Brien-1')"),
                             json={"company_name": "Q3"}, headers=demo_gateway.auth, timeout=30)
    assert escaped.status_code in (200, 204), escaped.text
    record = demo_gateway.json(f"CUSTOMERS({found['Id']})")
    assert (record["customer_code"], record["company_name"]) == ("O'Brien-1", "Q3")
    gone = requests.delete(demo_gateway.url(f"CUSTOMERS({found['Id']})"),
                           headers=demo_gateway.auth, timeout=30)
    assert gone.status_code == 204


def test_docs_page_uses_swagger_ui_5_with_no_outside_validator(demo_gateway: Gateway):
    initializer = demo_gateway.get("$docs/swagger-initializer.js").text
    assert "validatorUrl: null" in initializer and "withCredentials: true" in initializer
    bundle = demo_gateway.get("$docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    # Swagger UI 5 is the first to render OpenAPI 3.1; its bundle names the 3.1 JSON Schema.
    assert "https://spec.openapis.org/oas/3.1/dialect/base" in bundle.text


def test_the_capability_is_masked_in_logged_urls():
    assert redact("GET /api.rsc/$oas?sets=A&access=demo.1798788527.Cdx HTTP/1.1") == (
        "GET /api.rsc/$oas?sets=A&access=*** HTTP/1.1")
