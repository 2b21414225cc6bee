"""The dynamic connector document (``$oas?dynamic=true``): like Microsoft's own Kintone
connector, one set of generic record operations whose app parameter is a picker
(``x-ms-dynamic-values`` from ``GetTables``) and whose record bodies and outputs are described
at design time by ``GetRecordSchema`` (``x-ms-dynamic-schema``). Its size does not grow with the
number of apps, so it suits tenants of any size; the typed document stays for HTTP + Swagger,
which needs static schemas.
"""

from __future__ import annotations

from typing import Any

from ..triggers import paths
from ..triggers.events import EVENTS
from .guidance import polish
from .operations import ERROR_RESPONSES, QUERY_OPTIONS, error_refs
from .origin import Origin
from .record_schemas import PATH as SCHEMA_PATH
from .schemas import Schema
from .swagger2 import SECURITY_DEFINITIONS, info

TITLE = "Kintone Gateway (dynamic)"
TABLE = "EntitySet"
_NOT_FOUND = ("404", "NotFound")
_PRECONDITION = ("412", "PreconditionFailed")


def _table(summary: str = "App") -> Schema:
    """The app picker: a path parameter filled from ``GetTables``."""
    return {"name": TABLE, "in": "path", "required": True, "type": "string",
            "x-ms-summary": summary, "description": "The app (its entity set).",
            "x-ms-dynamic-values": {"operationId": "GetTables", "value-collection": "value",
                                    "value-path": "Name", "value-title": "Title"},
            "x-ms-url-encoding": "single"}


def _record_schema(purpose: str) -> Schema:
    """A record (``purpose`` read) or a write body, described by ``GetRecordSchema``."""
    return {"type": "object", "x-ms-dynamic-schema": {
        "operationId": "GetRecordSchema",
        "parameters": {TABLE: {"parameter": TABLE}, "for": purpose},
        "value-path": "schema"}}


_ID = {"name": "Id", "in": "path", "required": True, "type": "integer", "format": "int64",
       "x-ms-summary": "Record ID", "description": "The record's number (its Id)."}
_BODY = {"name": "body", "in": "body", "required": True, "x-ms-summary": "Record"}


def _op(operation_id: str, summary: str, description: str, parameters: list[Schema],
        responses: Schema, *errors: tuple[str, str], **more: Any) -> Schema:
    return {"tags": ["Records"], "operationId": operation_id, "summary": summary,
            "description": description, "parameters": parameters,
            "responses": {**responses, **error_refs(*errors)}, **more}


def _page(items: Schema) -> Schema:
    return {"type": "object", "required": ["value"], "properties": {
        "@odata.nextLink": {"type": "string", "x-ms-summary": "Next Link",
                            "x-ms-visibility": "advanced"},
        "@odata.count": {"type": "integer", "format": "int64", "x-ms-summary": "Count"},
        "value": {"type": "array", "items": items, "x-ms-summary": "Records"}}}


def _design_time() -> dict[str, dict[str, Schema]]:
    tables = {"type": "object", "properties": {"value": {
        "type": "array", "x-ms-summary": "Apps", "items": {"type": "object", "properties": {
            "Name": {"type": "string", "x-ms-summary": "Entity Set"},
            "Title": {"type": "string", "x-ms-summary": "Title"},
            "AppId": {"type": "integer", "format": "int64", "x-ms-summary": "App ID"}}}}}}
    keys = {"type": "object", "properties": {"value": {
        "type": "array", "x-ms-summary": "Key Fields", "items": {"type": "object", "properties": {
            "Name": {"type": "string", "x-ms-summary": "Name"},
            "Title": {"type": "string", "x-ms-summary": "Title"}}}}}}
    schema = {"type": "object", "properties": {"schema": {
        "type": "object", "x-ms-summary": "Schema", "properties": {
            "type": {"type": "string", "x-ms-summary": "Type"}}}}}
    purpose = {"name": "for", "in": "query", "required": False, "type": "string",
               "enum": ["read", "create", "update"], "default": "read", "x-ms-summary": "For",
               "description": "A record as read, or the body that creates or changes one."}
    return {
        SCHEMA_PATH: {"get": _op(
            "GetTables", "List apps", "Lists the apps the user may read, for the app picker.",
            [], {"200": {"description": "The apps.", "schema": tables}},
            **{"x-ms-visibility": "internal"})},
        f"{SCHEMA_PATH}/{{{TABLE}}}/keys": {"get": _op(
            "GetKeyFields", "List the key fields of an app",
            "Lists the app's fields whose values are unique, for upserts.",
            [_table()], {"200": {"description": "The key fields.", "schema": keys}},
            _NOT_FOUND, **{"x-ms-visibility": "internal"})},
        f"{SCHEMA_PATH}/{{{TABLE}}}": {"get": _op(
            "GetRecordSchema", "Get the fields of an app",
            "Returns the app's fields as JSON Schema (labels as x-ms-summary, choices as enum).",
            [_table(), purpose], {"200": {"description": "The schema.", "schema": schema}},
            _NOT_FOUND, **{"x-ms-visibility": "internal"})},
    }


def _records() -> dict[str, dict[str, Schema]]:
    read, create, update = (_record_schema(p) for p in ("read", "create", "update"))
    options = [{"$ref": f"#/parameters/{name}"}
               for name in ("filter", "select", "orderby", "top", "skip", "count")]
    changed = {"200": {"description": "The changed record (with Prefer: return=representation).",
                       "schema": read}, "204": {"description": "The record was changed."}}
    if_match = {"$ref": "#/parameters/if_match"}
    return {
        f"/{{{TABLE}}}": {
            "get": _op("ListRecords", "List records",
                       "Lists the records of an app, one page at a time.",
                       [_table(), *options],
                       {"200": {"description": "A page of records.", "schema": _page(read)}},
                       **{"x-ms-pageable": {"nextLinkName": "@odata.nextLink"}}),
            "post": _op("AddRecord", "Add a record", "Adds a record to an app and returns it.",
                        [_table(), {**_BODY, "description": "The new record.",
                                    "schema": create}],
                        {"201": {"description": "The added record.", "schema": read}}),
        },
        f"/{{{TABLE}}}({{Id}})": {
            "get": _op("GetRecord", "Get a record", "Returns one record of an app by its Id.",
                       [_table(), _ID], {"200": {"description": "The record.",
                                                 "schema": read}}, _NOT_FOUND),
            "patch": _op("UpdateRecord", "Update a record",
                         "Changes the given fields of a record; the others keep their values.",
                         [_table(), _ID, if_match, {**_BODY, "description": "The fields to "
                                                    "change.", "schema": update}],
                         changed, _NOT_FOUND, _PRECONDITION),
            "delete": _op("DeleteRecord", "Delete a record", "Removes a record from an app.",
                          [_table(), _ID, if_match],
                          {"204": {"description": "The record was deleted."}}, _NOT_FOUND,
                          _PRECONDITION),
        },
        f"/{{{TABLE}}}({{KeyField}}='{{Key}}')": {"patch": _op(
            "UpsertRecord", "Add or update a record by a key",
            "Changes the record whose key field has the given value, or adds it if there is none.",
            [_table(), {"name": "KeyField", "in": "path", "required": True, "type": "string",
                        "x-ms-summary": "Key Field",
                        "description": "A field whose values are unique (Prohibit duplicate "
                                       "values).",
                        "x-ms-dynamic-values": {
                            "operationId": "GetKeyFields", "value-collection": "value",
                            "value-path": "Name", "value-title": "Title",
                            "parameters": {TABLE: {"parameter": TABLE}}}},
             {"name": "Key", "in": "path", "required": True, "type": "string",
              "x-ms-summary": "Key", "description": "The key's value, as is (quotes need no "
                                                    "escaping)."},
             {**_BODY, "description": "The fields to set.", "schema": update}],
            {**changed, "201": {"description": "No record had the key: this one was added.",
                                "schema": read}})},
        f"/{{{TABLE}}}({{Id}})/Kintone.UpdateStatus": {"post": _op(
            "UpdateStatus", "Update the status of a record",
            "Runs a process-management action on a record.",
            [_table(), _ID, {"name": "body", "in": "body", "required": True,
                             "x-ms-summary": "Action", "description": "The action to run.",
                             "schema": {"type": "object", "required": ["Action"], "properties": {
                                 "Action": {"type": "string", "x-ms-summary": "Action",
                                            "description": "The action's name."},
                                 "Assignee": {"type": "string", "x-ms-summary": "Assignee",
                                              "description": "The next assignee's login "
                                                             "name, when the action asks."}}}}],
            {"204": {"description": "The status was updated."}}, _NOT_FOUND)},
        "/Comments": {"post": _op(
            "AddComment", "Add a comment", "Posts a comment on a record.",
            [{"name": "body", "in": "body", "required": True, "x-ms-summary": "Comment",
              "description": "The comment.", "schema": {
                  "type": "object", "required": ["AppId", "RecordId", "Text"], "properties": {
                      "AppId": {"type": "integer", "format": "int64", "x-ms-summary": "App ID"},
                      "RecordId": {"type": "integer", "format": "int64",
                                   "x-ms-summary": "Record ID"},
                      "Text": {"type": "string", "x-ms-summary": "Text"}}}}],
            {"201": {"description": "The posted comment.", "schema": {
                "type": "object", "properties": {
                    "Id": {"type": "integer", "format": "int64", "x-ms-summary": "Comment ID"},
                    "Text": {"type": "string", "x-ms-summary": "Text"}}}}})},
    }


def _triggers(webhooks: bool) -> dict[str, dict[str, Schema]]:
    read = _record_schema("read")
    out: dict[str, dict[str, Schema]] = {}
    for kind, what in (("added", "are added"), ("updated", "are added or changed")):
        out[paths.poll(f"{{{TABLE}}}", kind)] = {"get": _op(
            f"PollRecords{kind.capitalize()}", f"When records {what}",
            f"This operation triggers when records {what} in the chosen app (polled).",
            [_table(), {"name": "triggerState", "in": "query", "required": False,
                        "type": "string", "default": "", "x-ms-visibility": "internal",
                        "x-ms-summary": "Trigger State",
                        "description": "Where the trigger stands; managed by the platform."}],
            {"200": {"description": "New records.", "schema": {
                "type": "object", "required": ["value"], "properties": {"value": {
                    "type": "array", "items": read, "x-ms-summary": "Records"}}}},
             "202": {"description": "Nothing new yet."}}, _NOT_FOUND,
            **{"x-ms-trigger": "batch",
               "x-ms-trigger-metadata": {"kind": "query", "mode": "polling"}})}
    if not webhooks:
        return out
    callback = {"type": "object", "required": ["callbackUrl"], "properties": {"callbackUrl": {
        "type": "string", "x-ms-notification-url": True, "x-ms-visibility": "internal",
        "x-ms-summary": "Callback URL", "description": "Where to POST the events."}}}
    for event in EVENTS:
        content = {"type": "object", "properties": {
            "EventId": {"type": "string", "x-ms-summary": "Event ID"},
            "Event": {"type": "string", "x-ms-summary": "Event Type"},
            "RecordId": {"type": "integer", "format": "int64", "x-ms-summary": "Record ID"},
            **({"Record": {**read, "x-ms-summary": "Record"}}
               if event.carries == "record" else {})}}
        out[paths.subscribe(f"{{{TABLE}}}", event.name)] = {
            "x-ms-notification-content": {"description": "The event.", "schema": content},
            "post": _op(f"OnRecord{event.verb}", event.summary,
                        f"This operation triggers {event.summary[:1].lower()}"
                        f"{event.summary[1:]} in the chosen app (a Kintone webhook).",
                        [_table(), {"name": "body", "in": "body", "required": True,
                                    "x-ms-summary": "Subscription",
                                    "description": "The subscription.", "schema": callback}],
                        {"201": {"description": "Subscribed; DELETE the Location to "
                                 "unsubscribe."}}, _NOT_FOUND,
                        **{"x-ms-trigger": "single"})}
    out[paths.subscription("{SubscriptionId}")] = {"delete": _op(
        "DeleteTriggerSubscription", "Delete a trigger subscription",
        "Ends a webhook trigger's subscription.",
        [{"name": "SubscriptionId", "in": "path", "required": True, "type": "string",
          "x-ms-summary": "Subscription ID", "description": "The subscription's ID."}],
        {"204": {"description": "Unsubscribed."}}, _NOT_FOUND,
        **{"x-ms-visibility": "internal"})}
    return out


def build_dynamic(origin: Origin, error_definitions: dict[str, Schema], *,
                  webhooks: bool = False) -> dict:
    """The dynamic document; ``error_definitions`` holds the OData error's definition."""
    return polish({
        "swagger": "2.0",
        "info": {**info(origin), "title": TITLE},
        **({"host": origin.host} if origin.host else {}),
        "basePath": origin.base_path,
        "schemes": [origin.scheme],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {**_design_time(), **_records(), **_triggers(webhooks)},
        "definitions": error_definitions,
        "parameters": {name: QUERY_OPTIONS[name] for name in
                       ("filter", "select", "orderby", "top", "skip", "count", "if_match")},
        "responses": dict(ERROR_RESPONSES),
        "securityDefinitions": dict(SECURITY_DEFINITIONS),
        "security": [{name: []} for name in SECURITY_DEFINITIONS],
        "tags": [{"name": "Records", "description": "Records of any app."}],
    })
