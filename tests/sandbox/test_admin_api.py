"""App administration API over HTTP: fields, layout, views, settings, process, deploy."""

from __future__ import annotations

import json
import secrets

import pytest

from tests.kintone_http import Kintone, error_of

TEXT = {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}
PRICE = {"type": "NUMBER", "code": "price", "label": "Price"}


def new_app(admin: Kintone, fields: dict | None = None) -> int:
    """An app in preview only (not deployed), with ``fields`` added."""
    app = int(admin.ok("POST", "preview/app", {"name": f"Admin {secrets.token_hex(3)}"})["app"])
    if fields:
        admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": fields})
    return app


def deploy(admin: Kintone, app: int) -> None:
    admin.ok("POST", "preview/app/deploy", {"apps": [{"app": app, "revision": -1}]})


def preview_fields(admin: Kintone, app: int) -> dict:
    return admin.ok("GET", "preview/app/form/fields", params={"app": app})["properties"]


def token_for(sandbox, server, app: int, *rights: str) -> Kintone:
    token = secrets.token_hex(8)
    with sandbox.db.transaction() as conn:
        conn.execute("INSERT INTO api_tokens (token, app, data) VALUES (?, ?, ?)",
                     (token, app, json.dumps({"rights": list(rights)})))
    return Kintone.with_tokens(server.url, token)


# ---------------------------------------------------------------------------------------------
# Lifecycle


def test_new_app_lives_in_preview_until_deployed(admin):
    created = admin.ok("POST", "preview/app", {"name": "Lifecycle"})
    assert created["revision"] == "2" and created["app"].isdigit()
    app = int(created["app"])
    assert error_of(admin.get("app", {"id": app})) == (404, "GAIA_AP01")
    assert error_of(admin.get("records", {"app": app})) == (404, "GAIA_AP01")
    assert error_of(admin.get("app/form/fields", {"app": app})) == (404, "GAIA_AP01")
    body = {"app": app, "properties": {"title": TEXT}}
    answer = admin.ok("POST", "preview/app/form/fields", body)
    assert answer == {"revision": "3"}
    deploy(admin, app)
    assert admin.ok("GET", "app", params={"id": app})["name"] == "Lifecycle"
    live = admin.ok("GET", "app/form/fields", params={"app": app})
    assert live["revision"] == "3" and "title" in live["properties"]
    status = admin.ok("GET", "preview/app/deploy", params={"apps[0]": app})
    assert status == {"apps": [{"app": str(app), "status": "SUCCESS"}]}
    added = admin.ok("POST", "record", {"app": app, "record": {"title": {"value": "hello"}}})
    assert added["id"] == "1"


def test_create_app_validates_name(admin):
    assert error_of(admin.post("preview/app", {"space": 1})) == (400, "CB_VA01")
    assert error_of(admin.post("preview/app", {"name": "x" * 65})) == (400, "CB_VA01")


def test_preview_changes_stay_out_of_live_until_deploy(admin):
    app = new_app(admin, {"title": TEXT})
    deploy(admin, app)
    admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": {"price": PRICE}})
    admin.ok("PUT", "preview/app/settings", {"app": app, "name": "Renamed"})
    assert "price" not in admin.ok("GET", "app/form/fields", params={"app": app})["properties"]
    assert admin.ok("GET", "app", params={"id": app})["name"] != "Renamed"
    assert "price" in preview_fields(admin, app)
    deploy(admin, app)
    assert "price" in admin.ok("GET", "app/form/fields", params={"app": app})["properties"]
    assert admin.ok("GET", "app", params={"id": app})["name"] == "Renamed"


def test_revert_discards_preview_changes(admin):
    app = new_app(admin, {"title": TEXT})
    deploy(admin, app)
    admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": {"price": PRICE}})
    admin.ok("POST", "preview/app/deploy", {"apps": [{"app": app}], "revert": True})
    assert "price" not in preview_fields(admin, app)


def test_settings_revision_conflicts(admin):
    app = new_app(admin)
    stale = {"app": app, "properties": {"title": TEXT}, "revision": 1}
    assert error_of(admin.post("preview/app/form/fields", stale)) == (409, "GAIA_CO03")
    fresh = {**stale, "revision": 2}
    assert admin.ok("POST", "preview/app/form/fields", fresh) == {"revision": "3"}
    deploy_body = {"apps": [{"app": app, "revision": 2}]}
    assert error_of(admin.post("preview/app/deploy", deploy_body)) == (409, "GAIA_CO03")


# ---------------------------------------------------------------------------------------------
# Field properties


def test_omitted_properties_get_kintone_defaults(admin):
    options = {"A": {"label": "A", "index": "0"}}
    app = new_app(admin, {
        "t": {"type": "SINGLE_LINE_TEXT", "code": "t", "label": "T"},
        "n": {"type": "NUMBER", "code": "n", "label": "N"},
        "c": {"type": "CALC", "code": "c", "label": "C", "expression": "n * 2"},
        "m": {"type": "MULTI_LINE_TEXT", "code": "m", "label": "M"},
        "l": {"type": "LINK", "code": "l", "label": "L"},
        "cb": {"type": "CHECK_BOX", "code": "cb", "label": "CB", "options": options},
        "rb": {"type": "RADIO_BUTTON", "code": "rb", "label": "RB", "options": options},
        "dd": {"type": "DROP_DOWN", "code": "dd", "label": "DD", "options": options},
        "ms": {"type": "MULTI_SELECT", "code": "ms", "label": "MS", "options": options},
        "f": {"type": "FILE", "code": "f", "label": "F"},
        "d": {"type": "DATE", "code": "d", "label": "D"},
        "tm": {"type": "TIME", "code": "tm", "label": "TM"},
        "us": {"type": "USER_SELECT", "code": "us", "label": "US"},
        "g": {"type": "GROUP", "code": "g", "label": "G"},
    })
    props = preview_fields(admin, app)
    common = {"noLabel": False, "required": False}
    assert props["t"] == {"type": "SINGLE_LINE_TEXT", "code": "t", "label": "T", **common,
                          "unique": False, "defaultValue": "", "minLength": "", "maxLength": "",
                          "expression": "", "hideExpression": False}
    assert props["n"] == {"type": "NUMBER", "code": "n", "label": "N", **common, "unique": False,
                          "defaultValue": "", "minValue": "", "maxValue": "", "digit": False,
                          "displayScale": "", "unit": "", "unitPosition": "BEFORE"}
    assert props["c"]["format"] == "NUMBER" and props["c"]["hideExpression"] is False
    assert props["m"] == {"type": "MULTI_LINE_TEXT", "code": "m", "label": "M", **common,
                          "defaultValue": ""}
    assert props["l"]["protocol"] == "WEB" and props["l"]["maxLength"] == ""
    assert props["cb"]["defaultValue"] == [] and props["cb"]["align"] == "HORIZONTAL"
    # A radio button always has a choice: required, its first option (by index) by default.
    assert (props["rb"]["required"], props["rb"]["defaultValue"]) == (True, "A")
    assert props["dd"]["defaultValue"] == ""
    assert props["ms"]["defaultValue"] == [] and props["ms"]["options"] == options
    assert props["f"]["thumbnailSize"] == "50"
    assert props["d"]["defaultNowValue"] is False and props["d"]["unique"] is False
    assert "unique" not in props["tm"]
    assert props["us"]["entities"] == [] and props["us"]["defaultValue"] == []
    assert props["g"] == {"type": "GROUP", "code": "g", "label": "G", "noLabel": False,
                          "openGroup": False}
    assert props["Status"] == {"type": "STATUS", "code": "Status", "label": "Status",
                               "enabled": False}


def test_numeric_settings_are_returned_as_strings(admin):
    app = new_app(admin, {"n": {"type": "NUMBER", "code": "n", "label": "N", "minValue": 0,
                                "maxValue": 100, "displayScale": 2, "required": "true"}})
    n = preview_fields(admin, app)["n"]
    assert (n["minValue"], n["maxValue"], n["displayScale"], n["required"]) == ("0", "100", "2",
                                                                               True)


@pytest.mark.parametrize("fields, key", [
    ({"x": {"type": "NOPE", "code": "x", "label": "X"}}, "properties[x].type"),
    ({"x": {"type": "LABEL", "code": "x", "label": "X"}}, "properties[x].type"),
    ({"x": {"type": "RECORD_NUMBER", "code": "x", "label": "X"}}, "properties[x].type"),
    ({"1x": {"type": "SINGLE_LINE_TEXT", "code": "1x", "label": "X"}}, "properties[1x].code"),
    ({"a-b": {"type": "SINGLE_LINE_TEXT", "code": "a-b", "label": "X"}}, "properties[a-b].code"),
    ({"x": {"type": "SINGLE_LINE_TEXT", "code": "y", "label": "X"}}, "properties[x].code"),
    ({"x": {"type": "SINGLE_LINE_TEXT", "code": "x"}}, "properties[x].label"),
    ({"x": {"type": "NUMBER", "code": "x", "label": "X", "unitPosition": "LEFT"}},
     "properties[x].unitPosition"),
    ({"x": {"type": "NUMBER", "code": "x", "label": "X", "minValue": "a"}},
     "properties[x].minValue"),
    ({"x": {"type": "NUMBER", "code": "x", "label": "X", "minValue": 5, "maxValue": 1}},
     "properties[x].minValue"),
    ({"x": {"type": "SINGLE_LINE_TEXT", "code": "x", "label": "X", "maxLength": "-1"}},
     "properties[x].maxLength"),
    ({"x": {"type": "DROP_DOWN", "code": "x", "label": "X"}}, "properties[x].options"),
    ({"x": {"type": "DROP_DOWN", "code": "x", "label": "X", "defaultValue": "B",
            "options": {"A": {"label": "A", "index": "0"}}}}, "properties[x].defaultValue"),
    ({"x": {"type": "CALC", "code": "x", "label": "X"}}, "properties[x].expression"),
    ({"x": {"type": "CALC", "code": "x", "label": "X", "expression": "1", "format": "BAD"}},
     "properties[x].format"),
    ({"x": {"type": "FILE", "code": "x", "label": "X", "thumbnailSize": "99"}},
     "properties[x].thumbnailSize"),
    ({"x": {"type": "SUBTABLE", "code": "x", "fields": {}}}, "properties[x].fields"),
    ({"x": {"type": "SUBTABLE", "code": "x", "fields": {
        "inner": {"type": "SUBTABLE", "code": "inner", "label": "I"}}}},
     "properties[x].fields[inner].type"),
    ({"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Again"}},
     "properties[title].code"),
    ({"x": {"type": "SUBTABLE", "code": "x", "fields": {
        "title": {"type": "NUMBER", "code": "title", "label": "Dup"}}}},
     "properties[x].fields[title].code"),
])
def test_invalid_field_properties_are_rejected(admin, fields, key):
    app = new_app(admin, {"title": TEXT})
    response = admin.post("preview/app/form/fields", {"app": app, "properties": fields})
    assert error_of(response) == (400, "CB_VA01")
    assert key in response.json()["errors"], response.json()["errors"]
    assert set(preview_fields(admin, app)) & set(fields) <= {"title"}  # nothing was stored


def test_codes_are_unique_within_one_request(admin):
    app = new_app(admin)
    response = admin.post("preview/app/form/fields", {"app": app, "properties": {
        "t": {"type": "SUBTABLE", "code": "t", "fields": {
            "a": {"type": "NUMBER", "code": "a", "label": "A"}}},
        "a": {"type": "NUMBER", "code": "a", "label": "A again"},
    }})
    assert error_of(response) == (400, "CB_VA01")
    assert "properties[a].code" in response.json()["errors"]


def test_japanese_field_codes_are_allowed(admin):
    field = {"type": "SINGLE_LINE_TEXT", "code": "顧客名", "label": "顧客"}
    app = new_app(admin, {"顧客名": field})
    assert "顧客名" in preview_fields(admin, app)


def test_invalid_formula_is_gaia_il01(admin):
    app = new_app(admin)
    response = admin.post("preview/app/form/fields", {"app": app, "properties": {
        "c": {"type": "CALC", "code": "c", "label": "C", "expression": "missing * 2"}}})
    assert error_of(response) == (400, "GAIA_IL01")


def test_lookup_properties(admin):
    source = admin.make_app({"code": {"type": "SINGLE_LINE_TEXT", "code": "code", "label": "Code",
                                      "unique": True},
                             "cname": {"type": "SINGLE_LINE_TEXT", "code": "cname", "label": "N"}})
    lookup = {"relatedApp": {"app": str(source)}, "relatedKeyField": "code",
              "fieldMappings": [{"field": "copied", "relatedField": "cname"}]}
    app = new_app(admin, {
        "copied": {"type": "SINGLE_LINE_TEXT", "code": "copied", "label": "Copied"},
        "key": {"type": "SINGLE_LINE_TEXT", "code": "key", "label": "Key", "lookup": lookup},
    })
    key = preview_fields(admin, app)["key"]
    assert set(key) == {"type", "code", "label", "noLabel", "required", "lookup"}
    assert key["lookup"] == {"relatedApp": {"app": str(source), "code": ""},
                             "relatedKeyField": "code",
                             "fieldMappings": [{"field": "copied", "relatedField": "cname"}],
                             "lookupPickerFields": [], "filterCond": "",
                             "sort": "Record_number desc"}


@pytest.mark.parametrize("change, key", [
    ({"relatedApp": {"app": "999999"}}, "properties[k].lookup.relatedApp.app"),
    ({"relatedKeyField": "nope"}, "properties[k].lookup.relatedKeyField"),
    ({"fieldMappings": [{"field": "nope", "relatedField": "cname"}]},
     "properties[k].lookup.fieldMappings[0].field"),
    ({"fieldMappings": [{"field": "copied", "relatedField": "nope"}]},
     "properties[k].lookup.fieldMappings[0].relatedField"),
])
def test_invalid_lookups_are_rejected(admin, change, key):
    source = admin.make_app({"code": {"type": "SINGLE_LINE_TEXT", "code": "code", "label": "C"},
                             "cname": {"type": "SINGLE_LINE_TEXT", "code": "cname", "label": "N"}})
    lookup = {"relatedApp": {"app": source}, "relatedKeyField": "code",
              "fieldMappings": [{"field": "copied", "relatedField": "cname"}], **change}
    app = new_app(admin, {"copied": {"type": "SINGLE_LINE_TEXT", "code": "copied", "label": "C"}})
    response = admin.post("preview/app/form/fields", {"app": app, "properties": {
        "k": {"type": "SINGLE_LINE_TEXT", "code": "k", "label": "K", "lookup": lookup}}})
    assert error_of(response) == (400, "CB_VA01")
    assert key in response.json()["errors"]


def test_update_merges_and_refuses_type_changes(admin):
    app = new_app(admin, {"title": {**TEXT, "maxLength": "10", "required": True}})
    admin.ok("PUT", "preview/app/form/fields", {"app": app, "properties": {
        "title": {"type": "SINGLE_LINE_TEXT", "label": "Name"}}})
    title = preview_fields(admin, app)["title"]
    assert (title["label"], title["maxLength"], title["required"]) == ("Name", "10", True)
    response = admin.put("preview/app/form/fields", {"app": app, "properties": {
        "title": {"type": "NUMBER"}}})
    assert error_of(response) == (400, "CB_VA01")
    unknown = admin.put("preview/app/form/fields", {"app": app, "properties": {
        "ghost": {"type": "NUMBER"}}})
    assert error_of(unknown) == (400, "GAIA_FC01")


def test_update_replaces_options_and_adds_subtable_columns(admin):
    app = new_app(admin, {
        "dd": {"type": "DROP_DOWN", "code": "dd", "label": "DD",
               "options": {"A": {"label": "A", "index": "0"}, "B": {"label": "B", "index": "1"}}},
        "t": {"type": "SUBTABLE", "code": "t", "fields": {"a": {**PRICE, "code": "a"}}},
    })
    admin.ok("PUT", "preview/app/form/fields", {"app": app, "properties": {
        "dd": {"type": "DROP_DOWN", "options": {"C": {"label": "C", "index": "0"}}},
        "t": {"type": "SUBTABLE", "fields": {"b": {**TEXT, "code": "b"}}},
    }})
    props = preview_fields(admin, app)
    assert list(props["dd"]["options"]) == ["C"]
    assert list(props["t"]["fields"]) == ["a", "b"]
    layout = admin.ok("GET", "preview/app/form/layout", params={"app": app})["layout"]
    table = next(row for row in layout if row["type"] == "SUBTABLE")
    assert [cell["code"] for cell in table["fields"]] == ["a", "b"]


def test_delete_fields(admin):
    app = new_app(admin, {"title": TEXT, "price": PRICE})
    answer = admin.ok("DELETE", "preview/app/form/fields", {"app": app, "fields": ["price"]})
    assert answer == {"revision": "4"}
    assert "price" not in preview_fields(admin, app)
    layout = admin.ok("GET", "preview/app/form/layout", params={"app": app})["layout"]
    assert [row["fields"][0]["code"] for row in layout] == ["title"]
    assert error_of(admin.delete("preview/app/form/fields", {"app": app, "fields": ["x"]})) == (
        400, "GAIA_FC01")
    system = admin.delete("preview/app/form/fields", {"app": app, "fields": ["Record_number"]})
    assert error_of(system) == (400, "CB_VA01")


def test_delete_with_query_string_parameters(admin):
    app = new_app(admin, {"title": TEXT})
    admin.ok("DELETE", "preview/app/form/fields", params={"app": app, "fields[0]": "title"})
    assert "title" not in preview_fields(admin, app)


# ---------------------------------------------------------------------------------------------
# Deploy keeps records consistent


def test_deploy_moves_renamed_drops_removed_and_recomputes(admin):
    app = admin.make_app({"title": TEXT, "price": PRICE, "memo": {
        "type": "MULTI_LINE_TEXT", "code": "memo", "label": "Memo"}})
    admin.ok("POST", "record", {"app": app, "record": {
        "title": {"value": "Desk"}, "price": {"value": "120"}, "memo": {"value": "gone"}}})
    admin.ok("PUT", "preview/app/form/fields", {"app": app, "properties": {
        "title": {"type": "SINGLE_LINE_TEXT", "code": "product"}}})
    admin.ok("DELETE", "preview/app/form/fields", {"app": app, "fields": ["memo"]})
    admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": {
        "double": {"type": "CALC", "code": "double", "label": "2x", "expression": "price * 2"}}})
    deploy(admin, app)
    record = admin.ok("GET", "records", params={"app": app})["records"][0]
    assert record["product"]["value"] == "Desk"
    assert "title" not in record and "memo" not in record
    assert record["double"]["value"] == "240"
    found = admin.ok("GET", "records", params={"app": app, "query": 'product = "Desk"'})
    assert len(found["records"]) == 1
    by_calc = admin.ok("GET", "records", params={"app": app, "query": "double = 240"})
    assert len(by_calc["records"]) == 1


def test_deploy_refuses_formula_referencing_deleted_field(admin):
    app = new_app(admin, {"price": PRICE, "c": {"type": "CALC", "code": "c", "label": "C",
                                                 "expression": "price + 1"}})
    admin.ok("DELETE", "preview/app/form/fields", {"app": app, "fields": ["price"]})
    response = admin.post("preview/app/deploy", {"apps": [{"app": app}]})
    assert error_of(response) == (400, "GAIA_IL01")


# ---------------------------------------------------------------------------------------------
# Layout, views, settings


def test_layout_round_trip_and_validation(admin):
    app = new_app(admin, {"title": TEXT, "price": PRICE, "grp": {
        "type": "GROUP", "code": "grp", "label": "Group"}})
    layout = [
        {"type": "ROW", "fields": [
            {"type": "SINGLE_LINE_TEXT", "code": "title", "size": {"width": 300}},
            {"type": "LABEL", "label": "<b>Hi</b>", "size": {"width": "120"}},
            {"type": "SPACER", "elementId": "sp", "size": {"width": "40", "height": "20"}}]},
        {"type": "GROUP", "code": "grp", "layout": [
            {"type": "ROW", "fields": [{"type": "NUMBER", "code": "price", "size": {}}]}]},
    ]
    admin.ok("PUT", "preview/app/form/layout", {"app": app, "layout": layout})
    got = admin.ok("GET", "preview/app/form/layout", params={"app": app})["layout"]
    assert got[0]["fields"][0] == {"type": "SINGLE_LINE_TEXT", "code": "title",
                                   "size": {"width": "300"}}
    assert got[0]["fields"][1] == {"type": "LABEL", "label": "<b>Hi</b>", "elementId": "",
                                   "size": {"width": "120"}}
    assert got[1]["layout"][0]["fields"][0]["code"] == "price"
    missing = admin.put("preview/app/form/layout", {"app": app, "layout": layout[:1]})
    assert error_of(missing) == (400, "CB_VA01")
    wrong = [{"type": "ROW", "fields": [{"type": "NUMBER", "code": "title"}]}, *layout[1:]]
    assert error_of(admin.put("preview/app/form/layout", {"app": app, "layout": wrong})) == (
        400, "CB_VA01")


def test_views_round_trip_keep_ids(admin):
    app = new_app(admin, {"title": TEXT, "price": PRICE})
    views = {"Cheap": {"type": "LIST", "name": "Cheap", "index": 0, "fields": ["title", "price"],
                       "filterCond": "price < 10", "sort": "price asc"}}
    answer = admin.ok("PUT", "preview/app/views", {"app": app, "views": views})
    view_id = answer["views"]["Cheap"]["id"]
    assert view_id.isdigit() and answer["revision"] == "4"
    got = admin.ok("GET", "preview/app/views", params={"app": app})["views"]["Cheap"]
    assert got == {"type": "LIST", "name": "Cheap", "id": view_id, "index": "0",
                   "fields": ["title", "price"], "filterCond": "price < 10", "sort": "price asc"}
    again = admin.ok("PUT", "preview/app/views", {"app": app, "views": views})
    assert again["views"]["Cheap"]["id"] == view_id
    bad = {"Bad": {"type": "LIST", "index": 0, "fields": ["nope"]}}
    assert error_of(admin.put("preview/app/views", {"app": app, "views": bad})) == (400, "CB_VA01")
    bad_query = {"Q": {"type": "LIST", "index": 0, "filterCond": "nope = 1"}}
    assert error_of(admin.put("preview/app/views", {"app": app, "views": bad_query}))[0] == 400


def test_app_settings_round_trip(admin):
    app = new_app(admin, {"title": TEXT})
    defaults = admin.ok("GET", "preview/app/settings", params={"app": app})
    assert defaults["numberPrecision"] == {"digits": "16", "decimalPlaces": "4",
                                           "roundingMode": "HALF_EVEN"}
    assert defaults["enableComments"] is True and defaults["revision"] == "3"
    admin.ok("PUT", "preview/app/settings", {
        "app": app, "description": "<b>d</b>", "enableComments": False, "theme": "RED",
        "titleField": {"selectionMode": "MANUAL", "code": "title"},
        "numberPrecision": {"digits": 10, "decimalPlaces": 2, "roundingMode": "UP"}})
    got = admin.ok("GET", "preview/app/settings", params={"app": app})
    assert got["numberPrecision"] == {"digits": "10", "decimalPlaces": "2", "roundingMode": "UP"}
    assert (got["enableComments"], got["theme"], got["titleField"]["code"]) == (False, "RED",
                                                                                "title")
    bad = {"app": app, "theme": "PINK", "numberPrecision": {"digits": 40}}
    response = admin.put("preview/app/settings", bad)
    assert error_of(response) == (400, "CB_VA01")
    assert {"theme", "numberPrecision.digits"} <= set(response.json()["errors"])


# ---------------------------------------------------------------------------------------------
# Process management


PROCESS = {
    "enable": True,
    "states": {
        "Open": {"name": "Open", "index": "0", "assignee": {"type": "ONE", "entities": []}},
        "Done": {"name": "Done", "index": "1", "assignee": {"type": "ANY", "entities": [
            {"entity": {"type": "FIELD_ENTITY", "code": "Created_by"}}]}},
    },
    "actions": [{"name": "Finish", "from": "Open", "to": "Done"}],
}


def test_process_settings_round_trip_and_enable_status_fields(admin):
    app = new_app(admin, {"title": TEXT})
    assert admin.ok("GET", "preview/app/status", params={"app": app}) == {
        "enable": False, "states": None, "actions": None, "revision": "3"}
    admin.ok("PUT", "preview/app/status", {"app": app, **PROCESS})
    got = admin.ok("GET", "preview/app/status", params={"app": app})
    assert got["states"]["Done"]["assignee"] == {"type": "ANY", "entities": [
        {"entity": {"type": "FIELD_ENTITY", "code": "Created_by"}, "includeSubs": False}]}
    assert got["actions"] == [{"name": "Finish", "from": "Open", "to": "Done", "filterCond": "",
                               "type": "PRIMARY"}]
    props = preview_fields(admin, app)
    assert props["Status"]["enabled"] and props["Assignee"]["enabled"]
    views = admin.ok("GET", "preview/app/views", params={"app": app})["views"]
    assert [v.get("builtinType") for v in views.values()] == ["ASSIGNEE"]
    assert error_of(admin.put("preview/app/views", {"app": app, "views": {}})) == (400,
                                                                                   "GAIA_IL44")


def test_process_enabled_on_existing_records_starts_them_in_first_status(admin):
    app = admin.make_app({"title": TEXT})
    admin.ok("POST", "record", {"app": app, "record": {"title": {"value": "old"}}})
    admin.ok("PUT", "preview/app/status", {"app": app, **PROCESS})
    deploy(admin, app)
    record = admin.ok("GET", "records", params={"app": app})["records"][0]
    assert record["Status"]["value"] == "Open"
    assert admin.ok("GET", "app/status", params={"app": app})["enable"] is True


@pytest.mark.parametrize("change, key", [
    ({"actions": [{"name": "Go", "from": "Open", "to": "Nowhere"}]}, "actions[0].to"),
    ({"states": {"Open": {"name": "Other", "index": "0"}}}, "states.Open.name"),
    ({"states": {"Open": {"name": "Open", "index": "x"}}}, "states.Open.index"),
    ({"states": {"Open": {"name": "Open", "index": "0",
                          "assignee": {"type": "SOME", "entities": []}}}},
     "states.Open.assignee.type"),
])
def test_invalid_process_settings(admin, change, key):
    app = new_app(admin, {"title": TEXT})
    response = admin.put("preview/app/status", {"app": app, **PROCESS, **change})
    assert error_of(response) == (400, "CB_VA01")
    assert key in response.json()["errors"]


# ---------------------------------------------------------------------------------------------
# Rights


def test_settings_apis_need_the_manage_right(admin, sandbox, server):
    app = admin.make_app({"title": TEXT})
    viewer = token_for(sandbox, server, app, "view")
    assert viewer.ok("GET", "app/form/fields", params={"app": app})["properties"]["title"]
    assert error_of(viewer.get("preview/app/form/fields", {"app": app})) == (403, "GAIA_NO01")
    body = {"app": app, "properties": {"price": PRICE}}
    assert error_of(viewer.post("preview/app/form/fields", body)) == (403, "GAIA_NO01")
    assert error_of(viewer.post("preview/app/deploy", {"apps": [{"app": app}]})) == (
        403, "GAIA_NO01")
    manager = token_for(sandbox, server, app, "manage")
    manager.ok("POST", "preview/app/form/fields", body)
    manager.ok("POST", "preview/app/deploy", {"apps": [{"app": app}]})
    assert error_of(manager.post("preview/app", {"name": "x"})) == (403, "GAIA_NO01")


def test_chained_renames_reach_the_records_and_free_the_old_code(admin):
    app = admin.make_app({"a": {**TEXT, "code": "a"}})
    admin.ok("POST", "record", {"app": app, "record": {"a": {"value": "kept"}}})
    for old, new in (("a", "b"), ("b", "c")):
        admin.ok("PUT", "preview/app/form/fields", {"app": app, "properties": {
            old: {"type": "SINGLE_LINE_TEXT", "code": new}}})
    admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": {
        "a": {**PRICE, "code": "a"}}})
    deploy(admin, app)
    record = admin.ok("GET", "records", params={"app": app})["records"][0]
    assert record["c"]["value"] == "kept"
    assert record["a"] == {"type": "NUMBER", "value": ""}


def test_layout_follows_renames_and_deletions_inside_groups(admin):
    app = new_app(admin, {"title": TEXT, "price": PRICE,
                          "grp": {"type": "GROUP", "code": "grp", "label": "G"}})
    admin.ok("PUT", "preview/app/form/layout", {"app": app, "layout": [
        {"type": "GROUP", "code": "grp", "layout": [{"type": "ROW", "fields": [
            {"type": "SINGLE_LINE_TEXT", "code": "title"}, {"type": "NUMBER", "code": "price"},
            {"type": "HR", "size": {"width": "600"}}]}]}]})
    admin.ok("PUT", "preview/app/form/fields", {"app": app, "properties": {
        "title": {"type": "SINGLE_LINE_TEXT", "code": "name"}}})
    admin.ok("DELETE", "preview/app/form/fields", {"app": app, "fields": ["price"]})
    layout = admin.ok("GET", "preview/app/form/layout", params={"app": app})["layout"]
    assert layout == [{"type": "GROUP", "code": "grp", "layout": [{"type": "ROW", "fields": [
        {"type": "SINGLE_LINE_TEXT", "code": "name", "size": {}},
        {"type": "HR", "elementId": "", "size": {"width": "600"}}]}]}]
