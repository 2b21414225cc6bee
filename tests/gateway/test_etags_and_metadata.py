"""ETags and 304s on entities, $metadata and the service document; what $metadata says the
service restricts (Capabilities, Core.Computed) checked against what it does; CSDL JSON Terms'
$Nullable; 4.0 clients get CSDL XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests

from tests.gateway.conftest import values

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
FIELDS = {
    "name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name"},
    "notes": {"type": "MULTI_LINE_TEXT", "code": "notes", "label": "Notes"},
    "total": {"type": "CALC", "code": "total", "label": "Total", "expression": "1+1"},
}


@pytest.fixture(scope="module")
def tagged(start_gateway, make_app):
    app, ids = make_app(FIELDS, [values(name="a"), values(name="b")], code="TAGGED")
    return start_gateway([app], schema_cache_ttl=0), app, ids


def test_an_entity_has_its_revision_as_etag_and_answers_304(tagged):
    gw, _, ids = tagged
    first = gw.get(f"TAGGED({ids[0]})")
    assert first.headers["ETag"] == first.json()["@odata.etag"] == 'W/"1"'
    again = gw.get(f"TAGGED({ids[0]})", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.content
    assert again.headers["ETag"] == 'W/"1"' and again.headers["OData-Version"] == "4.0"
    changed = requests.patch(gw.url(f"TAGGED({ids[0]})"), json={"name": "a2"},
                             headers={**gw.auth, "If-Match": 'W/"1"'}, timeout=30)
    assert changed.status_code in (200, 204), changed.text
    fresh = gw.get(f"TAGGED({ids[0]})", headers={"If-None-Match": 'W/"1"'})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == 'W/"2"'
    assert fresh.json()["name"] == "a2"


def test_metadata_and_service_document_etags(tagged, admin):
    gw, app, _ = tagged
    for path in ("$metadata", ""):
        first = gw.get(path)
        assert first.status_code == 200 and first.headers["ETag"]
        cached = gw.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert cached.status_code == 304 and not cached.content, path
    before = gw.get("$metadata").headers["ETag"]
    admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": {
        "extra": {"type": "NUMBER", "code": "extra", "label": "Extra"}}})
    admin.ok("POST", "preview/app/deploy", {"apps": [{"app": app, "revision": -1}]})
    changed = gw.get("$metadata", headers={"If-None-Match": before})
    assert changed.status_code == 200 and changed.headers["ETag"] != before
    assert 'Name="extra"' in changed.text


def test_odata_4_0_clients_get_xml_whatever_they_accept(tagged):
    gw, _, _ = tagged
    json_only = {"Accept": "application/json"}
    assert gw.get("$metadata", headers=json_only).json()["$Version"] == "4.01"
    xml = gw.get("$metadata", headers={**json_only, "OData-MaxVersion": "4.0"})
    assert xml.headers["Content-Type"].startswith("application/xml")
    assert xml.text.startswith("<?xml")


def test_csdl_json_terms_are_nullable_as_in_the_xml(tagged):
    gw, _, _ = tagged
    document = gw.get("$metadata", params={"$format": "json"}).json()
    terms = {name: body for name, body in document["Kintone"].items()
             if isinstance(body, dict) and body.get("$Kind") == "Term"}
    assert terms and all(body["$Nullable"] is True for body in terms.values())
    xml = ET.fromstring(gw.get("$metadata").content)
    assert all(term.get("Nullable") in (None, "true") for term in xml.iter(f"{EDM}Term"))


def annotations(element: ET.Element) -> dict[str, ET.Element]:
    return {a.get("Term"): a for a in element.findall(f"{EDM}Annotation")}


def record_paths(annotation: ET.Element, name: str) -> list[str]:
    for value in annotation.iter(f"{EDM}PropertyValue"):
        if value.get("Property") == name:
            return [path.text for path in value.iter(f"{EDM}PropertyPath")]
    return []


def entity_set(document: ET.Element, name: str) -> ET.Element:
    return next(s for s in document.iter(f"{EDM}EntitySet") if s.get("Name") == name)


def test_the_declared_sort_restrictions_are_what_the_demo_does(demo):
    document = ET.fromstring(demo.get("$metadata").content)
    for set_name in ("SUPPORT", "ORDERS", "CUSTOMERS"):
        restrictions = annotations(entity_set(document, set_name))
        unsortable = record_paths(restrictions["Capabilities.SortRestrictions"],
                                  "NonSortableProperties")
        assert "Revision" in unsortable
        entity_type = next(t for t in document.iter(f"{EDM}EntityType")
                           if t.get("Name") == set_name)
        for prop in entity_type.findall(f"{EDM}Property"):
            name = prop.get("Name")
            status = demo.get(set_name, params={"$orderby": name, "$top": "1"}).status_code
            assert (status != 200) == (name in unsortable), (set_name, name, status)
    support = record_paths(annotations(entity_set(document, "SUPPORT"))[
        "Capabilities.SortRestrictions"], "NonSortableProperties")
    assert {"内容", "回答", "添付ファイル", "対応者"} <= set(support)


def test_the_filter_functions_are_declared(demo):
    document = ET.fromstring(demo.get("$metadata").content)
    container = next(document.iter(f"{EDM}EntityContainer"))
    functions = [s.text for s in annotations(container)["Capabilities.FilterFunctions"].iter(
        f"{EDM}String")]
    assert {"contains", "now", "cast", "fractionalseconds", "totaloffsetminutes"} <= set(
        functions) and "$count" not in functions
    assert demo.get("CUSTOMERS", params={"$filter": " or ".join(
        f"{name}() eq null" for name in ("now", "mindatetime", "maxdatetime"))}).status_code == 200


def test_comments_declare_their_required_filter_and_fixed_order(demo):
    document = ET.fromstring(demo.get("$metadata").content)
    comments = annotations(entity_set(document, "Comments"))
    restriction = comments["Capabilities.FilterRestrictions"]
    assert record_paths(restriction, "RequiredProperties") == ["AppId"]
    sort = comments["Capabilities.SortRestrictions"]
    assert record_paths(sort, "AscendingOnlyProperties") == ["AppId", "RecordId", "Id"]
    assert demo.get("Comments", params={"$filter": "RecordId eq 1"}).status_code == 400
    assert demo.get("Comments", params={"$orderby": "Text"}).status_code == 501


def test_system_and_calculated_fields_are_computed(demo, tagged):
    gw, _, ids = tagged
    document = ET.fromstring(gw.get("$metadata").content)
    entity_type = next(t for t in document.iter(f"{EDM}EntityType") if t.get("Name") == "TAGGED")
    computed = {p.get("Name") for p in entity_type.findall(f"{EDM}Property")
                if "Core.Computed" in annotations(p)}
    assert {"Id", "Revision", "Record_number", "Created_by", "Created_datetime", "Updated_by",
            "Updated_datetime", "total"} <= computed
    assert not computed & {"name", "notes"}
    refused = requests.patch(gw.url(f"TAGGED({ids[1]})"), json={"total": "3"}, headers=gw.auth,
                             timeout=30)
    assert refused.status_code == 400
    comment_type = next(t for t in ET.fromstring(demo.get("$metadata").content).iter(
        f"{EDM}EntityType") if t.get("Name") == "Comment")
    marks = {p.get("Name"): set(annotations(p)) for p in comment_type.findall(f"{EDM}Property")}
    assert "Core.Computed" in marks["CreatedAt"] and "Core.Immutable" in marks["AppId"]
