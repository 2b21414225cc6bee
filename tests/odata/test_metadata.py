"""CSDL XML/JSON and the service document, for models built from the sandbox's fields.json.

The XML is checked structurally and through an independent client: python-odata reflects it
over HTTP and reads a feed written by ``payload``.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pytest
from odata import ODataService

from gateway.model import Model, build_model
from gateway.odata.metadata import (
    RESERVED_SCHEMA_NAMES,
    TERMS,
    Capabilities,
    csdl_json,
    csdl_xml,
    service_document,
)
from gateway.odata.payload import context_url, entity_json, stream_collection

EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
PRIMITIVES = {"Edm.String", "Edm.Int64", "Edm.Decimal", "Edm.Boolean", "Edm.Date",
              "Edm.DateTimeOffset", "Edm.TimeOfDay"}
NASTY = 'Price <&"> \'税込\''


def field(ftype: str, code: str, label: str | None = None, **props) -> dict:
    return {"type": ftype, "code": code, "label": label or code, "noLabel": False, **props}


def options(*names: str) -> dict:
    return {name: {"label": name, "index": str(i)} for i, name in enumerate(names)}


def calc(code: str, fmt: str) -> dict:
    return field("CALC", code, expression="1", format=fmt)


EVERY_TYPE = {
    "title": field("SINGLE_LINE_TEXT", "title", 'Title <b>&"quoted"</b>'),
    "memo": field("MULTI_LINE_TEXT", "memo", "Memo\nsecond line"),
    "body": field("RICH_TEXT", "body"),
    "price": field("NUMBER", "price", NASTY),
    "total": calc("total", "NUMBER"),
    "due_calc": calc("due_calc", "DATE"),
    "stamp": calc("stamp", "DATETIME"),
    "span": calc("span", "HOUR_MINUTE"),
    "tags": field("CHECK_BOX", "tags", options=options("new", "sale")),
    "priority": field("RADIO_BUTTON", "priority", options=options("high", "low"),
                      defaultValue="low"),
    "stage": field("DROP_DOWN", "stage", options=options("Lead", "Won")),
    "regions": field("MULTI_SELECT", "regions", options=options("EU", "JP")),
    "attachments": field("FILE", "attachments"),
    "site": field("LINK", "site", protocol="WEB"),
    "due": field("DATE", "due"),
    "call_time": field("TIME", "call_time"),
    "closed_at": field("DATETIME", "closed_at"),
    "owner": field("USER_SELECT", "owner"),
    "dept": field("ORGANIZATION_SELECT", "dept"),
    "team": field("GROUP_SELECT", "team"),
    "details": {"type": "GROUP", "code": "details", "label": "Details", "noLabel": False},
    "単価・税込": field("NUMBER", "単価・税込", "単価（税込）"),
    "顧客名": field("SINGLE_LINE_TEXT", "顧客名", "顧客名 & <会社>"),
    "明細": field("SUBTABLE", "明細", "明細 <lines>", fields={
        "品名": field("SINGLE_LINE_TEXT", "品名"),
        "数量": field("NUMBER", "数量", "数量 & 単位"),
        "line_files": field("FILE", "line_files"),
        "line_date": field("DATE", "line_date"),
        "担当": field("USER_SELECT", "担当"),
    }),
}
PROCESS = {
    "enable": True,
    "states": {"Open": {"name": "Open", "index": "0",
                        "assignee": {"type": "ONE", "entities": []}}},
    "actions": [],
}


@pytest.fixture(scope="module")
def app_ids(admin) -> tuple[int, int]:
    customers = admin.make_app({"会社名": field("SINGLE_LINE_TEXT", "会社名")}, name="顧客管理")
    related = field("REFERENCE_TABLE", "related", referenceTable={
        "relatedApp": {"app": str(customers)},
        "condition": {"field": "顧客名", "relatedField": "会社名"},
        "filterCond": "", "displayFields": ["会社名"], "sort": "", "size": "5"})
    quotes = admin.make_app({**EVERY_TYPE, "related": related}, name='Quotes <&"> 見積',
                            process=PROCESS)
    return quotes, customers


@pytest.fixture(scope="module")
def model(admin, app_ids) -> Model:
    apps = [admin.ok("GET", "app", params={"id": app_id}) for app_id in app_ids]
    fields = {
        app_id: admin.ok("GET", "app/form/fields", params={"app": app_id})["properties"]
        for app_id in app_ids
    }
    return build_model(apps, fields)


@pytest.fixture(scope="module")
def xml_text(model) -> str:
    return csdl_xml(model, Capabilities(filter_functions=("startswith", "contains")))


@pytest.fixture(scope="module")
def schema(xml_text) -> ET.Element:
    root = ET.fromstring(xml_text.encode("utf-8"))
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    [schema] = root.findall(f"{EDMX}DataServices/{EDM}Schema")
    return schema


def annotations(element: ET.Element) -> dict[str, str | None]:
    return {
        a.get("Term"): a.get("String") or a.get("Int") or a.get("Bool")
        for a in element.findall(f"{EDM}Annotation")
    }


def named(parent: ET.Element, tag: str) -> dict[str, ET.Element]:
    return {element.get("Name"): element for element in parent.findall(f"{EDM}{tag}")}


# --- Structure -------------------------------------------------------------------------------

def test_every_set_type_and_property_is_declared(model, schema):
    assert schema.get("Namespace") == "Kintone"
    entity_types = named(schema, "EntityType")
    complex_types = named(schema, "ComplexType")
    assert set(entity_types) == {t.name for t in model.entity_types}
    assert set(complex_types) == set(model.complex_types)
    [container] = schema.findall(f"{EDM}EntityContainer")
    sets = named(container, "EntitySet")
    assert set(sets) == set(model.entity_sets)
    for name, entity_set in model.entity_sets.items():
        assert sets[name].get("EntityType") == f"Kintone.{entity_set.entity_type.name}"
    for structured in [*model.entity_types, *model.complex_types.values()]:
        element = {**entity_types, **complex_types}[structured.name]
        props = named(element, "Property")
        assert list(props) == [p.name for p in structured.properties]
        for prop in structured.properties:
            assert props[prop.name].get("Type") == prop.type_name
            assert props[prop.name].get("Nullable") == (None if prop.nullable else "false")


def test_keys(model, schema):
    entity_types = named(schema, "EntityType")
    for entity_type in model.entity_types:
        refs = entity_types[entity_type.name].findall(f"{EDM}Key/{EDM}PropertyRef")
        assert tuple(ref.get("Name") for ref in refs) == entity_type.key
    quotes = model.entity_set("Quotes見積")
    assert quotes.entity_type.key == ("Id",)
    subtable = model.subtable_set(quotes.app_id, "明細")
    assert subtable.entity_type.key == ("RecordId", "RowId")


def test_every_type_reference_resolves(schema):
    declared = {f"Kintone.{name}" for name in named(schema, "ComplexType")}
    for prop in schema.iter(f"{EDM}Property"):
        type_name = prop.get("Type").removeprefix("Collection(").removesuffix(")")
        assert type_name in PRIMITIVES | declared, prop.get("Name")


def test_type_facets(model, schema):
    quotes = named(schema, "EntityType")["Quotes見積"]
    props = named(quotes, "Property")
    assert props["price"].attrib == {"Name": "price", "Type": "Edm.Decimal", "Scale": "variable"}
    assert props["total"].get("Scale") == "variable"
    assert props["closed_at"].get("Precision") == "3"
    assert props["Id"].attrib == {"Name": "Id", "Type": "Edm.Int64", "Nullable": "false"}
    assert props["span"].get("Type") == "Edm.String"  # HOUR_MINUTE durations stay text
    assert props["tags"].get("Type") == "Collection(Edm.String)"
    assert props["明細"].get("Type") == "Collection(Kintone.Quotes見積_明細_Row)"
    assert "details" not in props and "related" not in props  # no record values


def test_schema_names_are_unique(schema):
    children = [e.get("Name") for e in schema if e.tag != f"{EDM}Annotation"]
    assert len(children) == len(set(children))
    assert set(RESERVED_SCHEMA_NAMES) <= set(children)


def test_labels_codes_and_types_survive_escaping(xml_text, schema):
    assert "<b>" not in xml_text and "&lt;b&gt;&amp;&quot;quoted&quot;" in xml_text
    quotes = named(named(schema, "EntityType")["Quotes見積"], "Property")
    assert annotations(quotes["price"]) == {
        "Core.Description": NASTY, "Kintone.FieldCode": "price", "Kintone.FieldType": "NUMBER"}
    assert annotations(quotes["title"])["Core.Description"] == 'Title <b>&"quoted"</b>'
    assert annotations(quotes["memo"])["Core.Description"] == "Memo\nsecond line"
    assert annotations(quotes["単価_税込"])["Kintone.FieldCode"] == "単価・税込"
    assert annotations(quotes["Id"]) == {
        "Core.Description": "Record ID", "Kintone.FieldCode": "$id", "Kintone.FieldType": "__ID__"}
    row = named(named(schema, "ComplexType")["Quotes見積_明細_Row"], "Property")
    assert annotations(row["RowId"]) == {"Core.Description": "Row ID"}  # no Kintone field
    assert annotations(row["数量"])["Core.Description"] == "数量 & 単位"
    app = named(named(schema, "EntityType")["App"], "Property")
    assert annotations(app["CreatorCode"]) == {}  # a JSON path, not a field code


def test_entity_set_annotations(model, schema, app_ids):
    quotes_id, customers_id = app_ids
    [container] = schema.findall(f"{EDM}EntityContainer")
    sets = named(container, "EntitySet")
    quotes = annotations(sets["Quotes見積"])
    assert quotes["Core.Description"] == 'Quotes <&"> 見積'
    assert quotes["Kintone.AppId"] == str(quotes_id)
    assert "Kintone.AppCode" not in quotes  # the app has no code
    assert quotes["Capabilities.TopSupported"] == "true"
    rows = annotations(sets["Quotes見積_明細"])
    assert rows["Kintone.SubtableCode"] == "明細"
    assert rows["Core.Description"] == 'Quotes <&"> 見積: 明細 <lines>'
    assert annotations(sets["顧客管理"])["Kintone.AppId"] == str(customers_id)
    assert "Kintone.AppId" not in annotations(sets["Apps"])
    expand = sets["Apps"].find(f"{EDM}Annotation[@Term='Capabilities.ExpandRestrictions']")
    assert expand.find(f"{EDM}Record/{EDM}PropertyValue").attrib == {
        "Property": "Expandable", "Bool": "false"}


def test_container_annotations(schema):
    [container] = schema.findall(f"{EDM}EntityContainer")
    assert annotations(container)["Capabilities.BatchSupported"] == "true"
    functions = container.find(f"{EDM}Annotation[@Term='Capabilities.FilterFunctions']")
    assert [s.text for s in functions.iter(f"{EDM}String")] == ["contains", "startswith"]


def test_every_annotation_term_is_declared_or_referenced(xml_text, schema):
    root = ET.fromstring(xml_text)
    aliases = {include.get("Alias") for include in root.iter(f"{EDMX}Include")}
    assert aliases == {"Core", "Capabilities"}
    declared = {f"Kintone.{term.get('Name')}" for term in schema.findall(f"{EDM}Term")}
    assert declared == {f"Kintone.{term.name}" for term in TERMS}
    for annotation in root.iter(f"{EDM}Annotation"):
        term = annotation.get("Term")
        assert term in declared or term.split(".")[0] in aliases, term


def test_output_is_deterministic_and_sorted(model, xml_text, schema):
    assert csdl_xml(model, Capabilities(("contains", "startswith"))) == xml_text
    types = [e.get("Name") for e in schema.findall(f"{EDM}EntityType")]
    assert types == sorted(types, key=lambda name: (name.casefold(), name))


def test_control_characters_in_labels_keep_the_xml_well_formed():
    app = {"appId": "1", "code": "", "name": "bell\x07app"}
    fields = {1: {"a": field("SINGLE_LINE_TEXT", "a", "tab\tnull\x00end")}}
    text = csdl_xml(build_model([app], fields))
    root = ET.fromstring(text)
    descriptions = [a.get("String") for a in root.iter(f"{EDM}Annotation")
                    if a.get("Term") == "Core.Description"]
    assert "tab\tnull\ufffdend" in descriptions and "bell\ufffdapp" in descriptions


# --- CSDL JSON and the service document ------------------------------------------------------

def test_csdl_json_mirrors_the_xml(model, app_ids):
    doc = csdl_json(model)
    assert doc["$Version"] == "4.01" and doc["$EntityContainer"] == "Kintone.Container"
    assert {include["$Alias"] for ref in doc["$Reference"].values()
            for include in ref["$Include"]} == {"Core", "Capabilities"}
    schema = doc["Kintone"]
    assert schema["FieldCode"] == {
        "$Kind": "Term", "$Nullable": True, "$AppliesTo": ["Property"],
        "@Core.Description": TERMS[0].description}
    quotes = schema["Quotes見積"]
    assert quotes["$Kind"] == "EntityType" and quotes["$Key"] == ["Id"]
    assert quotes["Id"] == {"$Type": "Edm.Int64", "@Core.Description": "Record ID",
                            "@Kintone.FieldCode": "$id", "@Kintone.FieldType": "__ID__"}
    assert quotes["price"] == {"$Type": "Edm.Decimal", "$Nullable": True, "$Scale": "variable",
                               "@Core.Description": NASTY, "@Kintone.FieldCode": "price",
                               "@Kintone.FieldType": "NUMBER"}
    assert quotes["tags"]["$Collection"] is True and "$Type" not in quotes["tags"]
    assert schema["File"]["Size"] == {"$Type": "Edm.Int64", "$Nullable": True}
    container = schema["Container"]
    assert container["$Kind"] == "EntityContainer"
    assert container["Quotes見積"]["$Type"] == "Kintone.Quotes見積"
    assert container["Quotes見積"]["@Kintone.AppId"] == app_ids[0]
    assert container["Quotes見積"]["@Capabilities.CountRestrictions"] == {"Countable": True}
    assert container["@Capabilities.BatchSupported"] is True
    sets = {k for k, v in container.items() if isinstance(v, dict) and "$Collection" in v}
    assert sets == set(model.entity_sets)


def test_service_document(model):
    doc = service_document(model, "http://h/odata/")
    assert doc["@odata.context"] == "http://h/odata/$metadata"
    names = [item["name"] for item in doc["value"]]
    assert names == sorted(model.entity_sets, key=lambda n: (n.casefold(), n))
    assert doc["value"][0] == {"name": "Apps", "kind": "EntitySet", "url": "Apps"}
    assert "@odata.context" not in service_document(model, "http://h/odata", metadata="none")


# --- An independent client -------------------------------------------------------------------

Route = Callable[[str, str], tuple[str, bytes]]


@pytest.fixture
def serve() -> Iterator[Callable[[Route], str]]:
    """Serves ``route(path, query) -> (content type, body)`` on a free port; yields a starter."""
    servers: list[ThreadingHTTPServer] = []

    def start(route: Route) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                content_type, body = route(unquote(url.path), unquote(url.query))
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("OData-Version", "4.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/odata/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_python_odata_reflects_the_metadata(model, xml_text, serve):
    url = serve(lambda path, query: ("application/xml", xml_text.encode("utf-8")))
    service = ODataService(url, reflect_entities=True, quiet_progress=True)
    assert set(service.entities) == set(model.entity_sets)
    quotes = service.entities["Quotes見積"]
    schema = {p["name"]: p for p in quotes.__odata_schema__["properties"]}
    assert schema["Id"]["is_primary_key"] and not schema["price"]["is_primary_key"]
    assert schema["tags"]["is_collection"] and schema["tags"]["type"] == "Edm.String"
    assert schema["単価_税込"]["type"] == "Edm.Decimal"
    rows = {p["name"]: p for p in service.entities["Quotes見積_明細"].__odata_schema__[
        "properties"]}
    assert rows["RecordId"]["is_primary_key"] and rows["RowId"]["is_primary_key"]


def test_python_odata_reads_a_streamed_feed_across_pages(model, xml_text, serve):
    records = model.entity_set("Quotes見積")
    entity = {"Id": 1, "Revision": 3, "title": "ノート <&>", "price": Decimal("1200.50"),
              "単価_税込": Decimal("1100"), "tags": ["new"]}
    pages = {"": [entity, {**entity, "Id": 2}], "$skiptoken=2": [{**entity, "Id": 3}]}

    def route(path: str, query: str) -> tuple[str, bytes]:
        if path.endswith("/$metadata"):
            return "application/xml", xml_text.encode("utf-8")
        token = "$skiptoken=2" if "$skiptoken=2" in query else ""
        next_link = None if token else f"{url}Quotes見積?$skiptoken=2"
        chunks = stream_collection(
            context_url(url, records.name),
            (entity_json(records, e, base_url=url) for e in pages[token]),
            count=3, next_link_factory=lambda: next_link)
        return ("application/json;odata.metadata=minimal;odata.streaming=true",
                b"".join(chunks))

    url = serve(route)
    service = ODataService(url, reflect_entities=True, quiet_progress=True)
    quotes = service.entities["Quotes見積"]
    read = list(service.query(quotes))
    assert [r.Id for r in read] == [1, 2, 3]
    assert read[0].title == "ノート <&>" and read[0].price == Decimal("1200.5")
    assert read[0].単価_税込 == Decimal(1100)


def test_schema_names_of_the_protocol_are_reserved_in_the_model():
    from gateway.model.naming import RESERVED_SET_NAMES
    from gateway.odata.metadata import RESERVED_SCHEMA_NAMES

    assert set(RESERVED_SCHEMA_NAMES) <= RESERVED_SET_NAMES
