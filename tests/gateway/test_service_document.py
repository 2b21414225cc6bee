"""The service root and $metadata, and the headers every response carries."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests

from gateway.sandbox import Sandbox, SandboxServer
from gateway.settings import Section
from tests.conftest import ADMIN
from tests.gateway.conftest import TOKEN_IN_URL, kintone_settings
from tests.kintone_http import Kintone

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
POWER_QUERY_ACCEPT = (
    "application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;"
    "q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,"
    "text/plain;q=0.7"
)


@pytest.fixture(scope="module")
def gw(start_gateway, make_app):
    app, _ = make_app(FIELDS, [], code="DOCS")
    return start_gateway([app], sections=TOKEN_IN_URL)


def odata_versions(response: requests.Response) -> list[str]:
    return response.raw.headers.getlist("OData-Version")


@pytest.mark.parametrize("path", ["/api.rsc", "/api.rsc/", "/api.rsc/@TOKEN", "/api.rsc/@TOKEN/"])
def test_service_document_with_and_without_slash_and_token(gw, path):
    url = gw.root.removesuffix("/api.rsc") + path.replace("TOKEN", gw.token)
    headers = {"Accept": POWER_QUERY_ACCEPT, **({} if "@" in path else gw.auth)}
    response = requests.get(url, headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(
        "application/json;odata.metadata=minimal")
    assert odata_versions(response) == ["4.0"]
    body = response.json()
    root = url.rstrip("/")
    assert body["@odata.context"] == f"{root}/$metadata"
    assert {"name": "DOCS", "kind": "EntitySet", "url": "DOCS"} in body["value"]
    assert {entry["name"] for entry in body["value"]} >= {"Apps", "Comments", "Fields"}


def test_service_document_formats(gw):
    assert "@odata.context" not in gw.json(
        "", params={"$format": "application/json;odata.metadata=none"})
    assert gw.get("", params={"$format": "json"}).status_code == 200
    assert gw.get("", headers={"Accept": "application/xml"}).status_code == 406


def test_metadata_is_xml_by_default_even_for_power_query(gw):
    for headers in ({}, {"Accept": POWER_QUERY_ACCEPT}, {"Accept": "*/*"}):
        response = gw.get("$metadata", headers=headers)
        assert response.headers["Content-Type"].startswith("application/xml")
        assert odata_versions(response) == ["4.0"]
        schema = ET.fromstring(response.content)
        assert schema.tag.endswith("Edmx")
        assert 'Name="DOCS"' in response.text


def test_metadata_as_json_only_when_asked(gw):
    for response in (gw.get("$metadata", params={"$format": "json"}),
                     gw.get("$metadata", headers={"Accept": "application/json"})):
        assert response.headers["Content-Type"].startswith("application/json")
        assert "Kintone" in response.json()


def test_every_response_has_exactly_one_odata_version(gw):
    for path in ("DOCS", "DOCS/$count", "Nope", "DOCS(1)", "$metadata?$format=atom"):
        response = requests.get(f"{gw.root}/{path}", headers=gw.auth, timeout=30)
        assert odata_versions(response) == ["4.0"], path


def test_aliases_from_the_settings_name_sets_and_properties(start_gateway, admin):
    # The sandbox's admin API keeps Japanese field codes; the alias gives an ASCII name.
    app = admin.make_app({"顧客名": {"type": "SINGLE_LINE_TEXT", "code": "顧客名", "label": "N"}})
    admin.ok("POST", "record", {"app": app, "record": {"顧客名": {"value": "Acme"}}})
    section = Section("gateway", {"entitysetaliases": f"{app}:Clients",
                                  "propertyaliases": f"{app}.顧客名:ClientName"})
    gateway = start_gateway([app], sections={"gateway": section})
    body = gateway.json("Clients", params={"$select": "ClientName"})
    assert [row["ClientName"] for row in body["value"]] == ["Acme"]


def test_every_app_listed_is_exposed_guest_spaces_included(start_gateway):
    sandbox = Sandbox()
    sandbox.directory.add_user(*ADMIN)
    with SandboxServer(sandbox).start() as kintone:
        admin = Kintone.with_password(kintone.url, *ADMIN)
        admin.make_app({}, name="Visible")
        space = requests.post(f"{kintone.url}/__sandbox/spaces",
                              json={"name": "Guests", "isGuest": True, "creator": ADMIN[0]},
                              timeout=30).json()["id"]
        Kintone.with_password(kintone.url, *ADMIN, guest_space=space).make_app(
            {}, name="Guest only", space=space)
        gw = start_gateway([], kintone=kintone_settings(kintone.url))
        names = {s["name"] for s in gw.json()["value"]}
        assert {"Visible", "GuestOnly"} <= names
