"""The operations of one entity set, as Swagger 2.0 path items.

The contract (shared with the write path): per record set ``List<Set>`` ``GET /<Set>``,
``Get<Set>`` ``GET /<Set>({Id})``, ``Find<Set>`` ``GET /<Set>(<Field>='{Key}')`` for each
alternate key, ``Create<Set>`` ``POST /<Set>`` (201), ``Update<Set>``
``PATCH /<Set>({Id})`` (optional ``If-Match``), ``Replace<Set>`` ``PUT /<Set>({Id})``,
``Upsert<Set>`` ``PATCH /<Set>(<Field>='{Key}')`` for each alternate key of the write path
(``Upsert<Set>By2`` ... for more), ``Delete<Set>``
``DELETE /<Set>({Id})`` (204), ``GetCount<Set>`` ``GET /<Set>/$count`` (text/plain). Subtable
sets are read-only; a record set whose app has process management also has the bound actions
``UpdateStatus<Set>`` ``POST /<Set>({Id})/Kintone.UpdateStatus`` and ``SetAssignees<Set>``
``POST /<Set>({Id})/Kintone.SetAssignees`` (204 with the new ``ETag``, as
``writes.actions`` answers); ``Apps`` and ``Fields`` have list and get; ``Comments`` list,
get, create and delete. The methods listed per path are exactly those ``web.methods`` allows there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import EntitySet, Property, edm
from ..odata.numbers import FIRST_ID, INT64_MAX
from ..writes.actions import SET_ASSIGNEES, UPDATE_STATUS
from ..writes.upsert import alternate_keys
from .links import link_set
from .naming import OperationIds, SetNames
from .process_states import Workflow, status_property
from .schemas import ERROR, Resolve, Schema, property_schema, ref, source, upsert_definition

PARAMETERS = "#/parameters/"
RESPONSES = "#/responses/"

_OPERATIONS: Mapping[str, tuple[str, ...]] = {
    "records": ("list", "count", "create", "get", "find", "update", "replace", "delete",
                "upsert", "actions"),
    "subtable": ("list", "count", "get"),
    "apps": ("list", "get"),
    "fields": ("list", "get"),
    "comments": ("list", "get", "create", "delete"),
}
_NOUNS = {"records": "record", "subtable": "row", "apps": "app", "fields": "field",
          "comments": "comment"}


def _option(name: str, summary: str, description: str, visibility: str, **schema: Any) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "x-ms-summary": summary, "x-ms-visibility": visibility, **schema}


# The OData query options, shared by every list through ``#/parameters/``.
QUERY_OPTIONS: Mapping[str, Schema] = {
    "filter": _option("$filter", "Filter query", "An OData filter, e.g. "
                      "Status eq 'Open' and Amount gt 100.", "important", type="string",
                      minLength=1),
    "select": _option("$select", "Select query", "The properties to return, separated by "
                      "commas, or * for all (all when left out).", "advanced", type="string",
                      minLength=1),
    "orderby": _option("$orderby", "Order by", "The properties to sort by, each optionally "
                       "followed by asc or desc, separated by commas.", "advanced",
                       type="string", minLength=1),
    # ASCII digits within Int64 (gateway.odata.numbers): a larger count is a 400.
    "top": _option("$top", "Top count", "The most entities to return.", "important",
                   type="integer", format="int64", minimum=0, maximum=INT64_MAX),
    "skip": _option("$skip", "Skip count", "How many entities to skip.", "advanced",
                    type="integer", format="int64", minimum=0, maximum=INT64_MAX),
    "count": _option("$count", "Include count", "Whether to return the total number of "
                     "matching entities as @odata.count.", "advanced", type="boolean"),
    "comment_filter": {**_option(
        "$filter", "Filter query", "Which record's comments: AppId eq <app id> and RecordId eq "
        "<record id> (both are required), optionally with a condition on Id.", "important",
        type="string", minLength=1), "required": True},
    "if_match": {"name": "If-Match", "in": "header", "required": False, "type": "string",
                 "description": "The @odata.etag read before; the change fails with 412 if the "
                 "record changed since.", "x-ms-summary": "ETag", "x-ms-visibility": "advanced"},
}
_LIST_OPTIONS = ("filter", "select", "orderby", "top", "skip", "count")


def _error(description: str) -> Schema:
    return {"description": description, "schema": ref(ERROR)}


# Error answers, shared through ``#/responses/``; all are OData JSON errors.
ERROR_RESPONSES: Mapping[str, Schema] = {
    "BadRequest": _error("The request is invalid (an unknown property, a bad $filter ...)."),
    "Unauthorized": _error("No valid authtoken was given."),
    "Forbidden": _error("The user may not do this."),
    "NotFound": _error("There is no such entity."),
    "PreconditionFailed": _error("The entity changed since the given ETag was read."),
    "NotImplemented": _error("The request uses an OData feature the gateway does not "
                             "implement."),
    "ServiceUnavailable": _error("Kintone is unavailable or busy; try again later."),
    "Error": _error("Any other error, e.g. 5xx when the gateway or Kintone failed."),
}
_ALWAYS = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
           "501": "NotImplemented", "503": "ServiceUnavailable", "default": "Error"}


def error_refs(*errors: tuple[str, str]) -> Schema:
    """The error answers of an operation: the usual ones plus ``errors`` (status, name)."""
    failures = {**_ALWAYS, **dict(errors)}
    return {status: {"$ref": RESPONSES + name} for status, name in sorted(failures.items())}


def _responses(success: Mapping[str, Schema], *errors: tuple[str, str]) -> Schema:
    return {**success, **error_refs(*errors)}


_NOT_FOUND = ("404", "NotFound")
_ASSIGNEE = "user1"  # a login name, as the made-up examples have it (``examples``)
_PRECONDITION = ("412", "PreconditionFailed")


@dataclass(frozen=True)
class Subject:
    """An entity set and what its operations are called."""

    entity_set: EntitySet
    names: SetNames
    resolve: Resolve
    workflow: Workflow = field(default_factory=Workflow)  # its app's process, when known

    @property
    def kind(self) -> str:
        return self.entity_set.kind

    @property
    def noun(self) -> str:
        """``a CUSTOMERS record``, ``an app``."""
        noun = _NOUNS[self.kind]
        text = f"{self.entity_set.name} {noun}" if self.entity_set.app_id else noun
        return f"{'an' if text[0].lower() in 'aeiou' else 'a'} {text}"

    @property
    def plural_noun(self) -> str:
        """``CUSTOMERS records``, ``apps``."""
        noun = _NOUNS[self.kind] + "s"
        return f"{self.entity_set.name} {noun}" if self.entity_set.app_id else noun

    @property
    def source(self) -> str:
        return source(self.entity_set)


def set_paths(subject: Subject, ids: OperationIds) -> dict[str, dict[str, Schema]]:
    """The path items of one entity set: ``{path: {method: operation}}``."""
    paths: dict[str, dict[str, Schema]] = {}
    for kind in _OPERATIONS[subject.kind]:
        for path, method, operation in _BUILDERS[kind](subject):
            operation["operationId"] = ids.claim(operation["operationId"])
            paths.setdefault(path, {})[method] = {"tags": [subject.entity_set.name], **operation}
    return paths


Built = list[tuple[str, str, Schema]]


def link_paths(subject: Subject, paths: Mapping[str, Mapping[str, Schema]]) -> None:
    """Links between the operations of ``subject`` in ``paths`` (the whole document's)."""
    entity_set = subject.entity_set
    link_set(paths, f"/{entity_set.name}", _key_path(subject), entity_set.entity_type.key,
             entity_set.app_id if subject.kind == "records" else None,
             [f"{_key_path(subject)}/{name}" for name in (UPDATE_STATUS, SET_ASSIGNEES)])


def _list(s: Subject) -> Built:
    comments = s.kind == "comments"
    options = ("comment_filter", *_LIST_OPTIONS[1:]) if comments else _LIST_OPTIONS
    operation = {
        "operationId": f"List{s.names.plural}",
        "summary": f"List {s.plural_noun}",
        "description": f"Lists the entities of {s.source}, one page at a time (follow "
                       f"@odata.nextLink for more).",
        "parameters": [_select(s) if name == "select" else _option_ref(name)
                       for name in options],
        "responses": _responses({"200": {"description": f"A page of {s.entity_set.name}.",
                                         "schema": ref(f"{s.names.singular}_Page")}}),
        "x-ms-pageable": {"nextLinkName": "@odata.nextLink"},
    }
    return [(f"/{s.entity_set.name}", "get", operation)]


def _count(s: Subject) -> Built:
    operation = {
        "operationId": f"GetCount{s.names.plural}",
        "summary": f"Count {s.plural_noun}",
        "description": f"Counts the entities of {s.source} that match the filter.",
        "parameters": [_option_ref("filter")],
        # Text, as /$count answers (a number in text/plain), so clients do not parse it as JSON.
        "produces": ["text/plain", "application/json"],
        "responses": _responses({"200": {"description": "The number of matching entities, as "
                                         "text.", "schema": {"type": "string",
                                                             "pattern": "^[0-9]+$"}}}),
    }
    return [(f"/{s.entity_set.name}/$count", "get", operation)]


def _get(s: Subject) -> Built:
    operation = {
        "operationId": f"Get{s.names.singular}",
        "summary": f"Get {s.noun}",
        "description": f"Returns one entity of {s.source} by its key.",
        "parameters": [*_key_parameters(s), _select(s)],
        "responses": _responses({"200": {"description": "The entity.",
                                         "schema": ref(s.names.singular)}}, _NOT_FOUND),
    }
    return [(_key_path(s), "get", operation)]


def _create(s: Subject) -> Built:
    operation = {
        "operationId": f"Create{s.names.singular}",
        "summary": f"Create {s.noun}",
        "description": f"Adds a new entity to {s.source} and returns it.",
        "parameters": [_body(f"{s.names.singular}_New", "The new entity.")],
        "responses": _responses({"201": {"description": "The created entity.",
                                         "schema": ref(s.names.singular)}}),
    }
    return [(f"/{s.entity_set.name}", "post", operation)]


def _update(s: Subject) -> Built:
    return _change(s, "patch", "Update", f"Changes the given properties of an entity of "
                   f"{s.source}; the others keep their values.",
                   _body(f"{s.names.singular}_Changes", "The properties to change."))


def _replace(s: Subject) -> Built:
    return _change(s, "put", "Replace", f"Sets every writable property of an entity of "
                   f"{s.source}: those the body leaves out are emptied.",
                   _body(f"{s.names.singular}_New", "The entity's new values."))


def _change(s: Subject, method: str, verb: str, description: str, body: Schema) -> Built:
    operation = {
        "operationId": f"{verb}{s.names.singular}",
        "summary": f"{verb} {s.noun}",
        "description": description,
        "parameters": [*_key_parameters(s), _option_ref("if_match"), body],
        "responses": _responses(_changed(s), _NOT_FOUND, _PRECONDITION),
    }
    return [(_key_path(s), method, operation)]


def _changed(s: Subject, *, created: bool = False) -> Schema:
    entity = ref(s.names.singular)
    out = {"200": {"description": "The changed entity (with Prefer: return=representation).",
                   "schema": entity},
           "204": {"description": "The entity was changed."}}
    if created:
        out["201"] = {"description": "No entity had the key: this one was created.",
                      "schema": entity}
    return out


def _delete(s: Subject) -> Built:
    operation = {
        "operationId": f"Delete{s.names.singular}",
        "summary": f"Delete {s.noun}",
        "description": f"Removes an entity from {s.source}.",
        "parameters": [*_key_parameters(s),
                       *([_option_ref("if_match")] if s.kind == "records" else [])],
        "responses": _responses({"204": {"description": "The entity was deleted."}},
                                _NOT_FOUND, *([_PRECONDITION] if s.kind == "records" else [])),
    }
    return [(_key_path(s), "delete", operation)]


def _alternate_keys(s: Subject) -> Iterator[tuple[int, str, Property, str]]:
    """Each alternate key: its number, its operations' suffix (``""``, ``By2`` ...), its
    property and its path (``/Customers(Code='{Key}')``)."""
    for number, prop in enumerate(alternate_keys(s.entity_set.entity_type), 1):
        quote = "'" if prop.edm_type == edm.STRING else ""
        yield (number, "" if number == 1 else f"By{number}", prop,
               f"/{s.entity_set.name}({prop.name}={quote}{{Key}}{quote})")


def _find(s: Subject) -> Built:
    return [(path, "get", {
        "operationId": f"Find{s.names.singular}{suffix}",
        "summary": f"Find {s.noun} by {prop.name}",
        "description": f"Returns the entity of {s.source} whose {prop.name} has the given "
                       f"value (404 when none has).",
        "parameters": [_unique_key_parameter(prop, s.resolve), _select(s)],
        "responses": _responses({"200": {"description": "The entity.",
                                         "schema": ref(s.names.singular)}}, _NOT_FOUND),
    }) for _, suffix, prop, path in _alternate_keys(s)]


def _upsert(s: Subject) -> Built:
    built: Built = []
    for number, suffix, prop, path in _alternate_keys(s):
        body = upsert_definition(s.names.singular, number)
        built.append((path, "patch", _upsert_operation(s, prop, suffix, body)))
        built.append((path, "put", _upsert_replace_operation(s, prop, suffix, body)))
    return built


def _upsert_operation(s: Subject, prop: Property, suffix: str, body: str) -> Schema:
    return {
        "operationId": f"Upsert{s.names.singular}{suffix}",
        "summary": f"Upsert {s.noun} by {prop.name}",
        "description": f"An upsert: changes the entity of {s.source} whose {prop.name} has "
                       f"the given value (200 or 204), or, if there is none, creates one with "
                       f"that {prop.name} and the body's values (201).",
        "parameters": [_unique_key_parameter(prop, s.resolve),
                       _body(body, "The properties to set.")],
        "responses": _responses(_changed(s, created=True)),
    }


def _upsert_replace_operation(s: Subject, prop: Property, suffix: str, body: str) -> Schema:
    return {
        "operationId": f"UpsertReplace{s.names.singular}{suffix}",
        "summary": f"Upsert {s.noun} by {prop.name}, replacing it",
        "description": f"As Upsert{s.names.singular}{suffix}, but the writable properties the "
                       f"body leaves out are emptied.",
        "parameters": [_unique_key_parameter(prop, s.resolve),
                       _body(body, "The entity's new values.")],
        "responses": _responses(_changed(s, created=True)),
    }


def _actions(s: Subject) -> Built:
    """The process actions, for an app with process management (the model keeps the Status
    field only then)."""
    if status_property(s.entity_set) is None:
        return []
    # Open bodies: the actions ignore properties they do not know.
    update = {"type": "object", "required": ["Action"], "properties": {
        "Action": {"type": "string", "minLength": 1, "x-ms-summary": "Action",
                   "description": "The action's name, as Kintone shows it to you.",
                   **_action_names(s.workflow.actions)},
        "Assignee": {"type": "string", "minLength": 1, "x-nullable": True,
                     "x-ms-summary": "Assignee", "description": "The next assignee's login "
                     "name, when the next status asks for one."}},
        "example": {"Action": next(iter(s.workflow.actions), "Approve")}}
    assignees = {"type": "object", "required": ["Assignees"], "properties": {
        "Assignees": {"type": "array", "items": {"type": "string", "minLength": 1},
                      "x-ms-summary": "Assignees", "description": "The login names of the "
                      "current status's assignees (an empty list clears them)."}},
        "example": {"Assignees": [_ASSIGNEE]}}
    return [_action(s, UPDATE_STATUS, "Update the status of", "Runs a process-management "
                    f"action on an entity of {s.source}.", update),
            _action(s, SET_ASSIGNEES, "Set the assignees of", "Sets who is assigned the "
                    f"current status of an entity of {s.source}.", assignees)]


def _action_names(actions: tuple[str, ...]) -> Schema:
    """The process's actions as the choices of ``Action``; none when the process is unknown
    (free text then, as Kintone checks the name)."""
    if not actions:
        return {}
    return {"enum": list(actions),
            "x-ms-enum-values": [{"value": a, "displayName": a} for a in actions]}


def _action(s: Subject, name: str, summary: str, description: str, body: Schema) -> tuple[
        str, str, Schema]:
    operation = {
        "operationId": f"{name.removeprefix('Kintone.')}{s.names.singular}",
        "summary": f"{summary} {s.noun}",
        "description": description,
        "parameters": [*_key_parameters(s), _option_ref("if_match"),
                       _body(body, "The action's parameters.")],
        "responses": _responses({"204": {
            "description": "Done; the ETag header is the record's new @odata.etag.",
            "headers": {"ETag": {"type": "string", "description": "The new ETag."}}}},
            _NOT_FOUND, _PRECONDITION),
    }
    return (f"{_key_path(s)}/{name}", "post", operation)


_BUILDERS: Mapping[str, Callable[[Subject], Built]] = {
    "list": _list, "count": _count, "get": _get, "find": _find, "create": _create,
    "update": _update, "replace": _replace, "delete": _delete, "upsert": _upsert,
    "actions": _actions,
}


def _select(s: Subject) -> Schema:
    """``$select`` with the set's own property names: ``*`` or a list of them."""
    names = "|".join(re.escape(p.name) for p in s.entity_set.entity_type.properties)
    return {**QUERY_OPTIONS["select"], "pattern": rf"^(\*|({names})(,({names}))*)$"}


def _option_ref(name: str) -> Schema:
    return {"$ref": PARAMETERS + name}


def _body(definition: str | Schema, description: str) -> Schema:
    """A body parameter: a definition's name, or an inline schema."""
    schema = ref(definition) if isinstance(definition, str) else definition
    return {"name": "body", "in": "body", "required": True, "description": description,
            "x-ms-summary": "Body", "schema": schema}


def _key_path(s: Subject) -> str:
    """``/Customers({Id})`` or ``/Fields(AppId={AppId},Code='{Code}')``."""
    props = [s.entity_set.property(name) for name in s.entity_set.entity_type.key]
    parts = [_key_part(p) for p in props]
    inner = parts[0] if len(parts) == 1 else ",".join(f"{p.name}={part}"
                                                       for p, part in zip(props, parts,
                                                                          strict=True))
    return f"/{s.entity_set.name}({inner})"


def _key_part(prop: Property) -> str:
    return f"'{{{prop.name}}}'" if prop.edm_type == edm.STRING else f"{{{prop.name}}}"


def _key_parameters(s: Subject) -> list[Schema]:
    return [_path_parameter(s.entity_set.property(name), name, s.resolve)
            for name in s.entity_set.entity_type.key]


def _unique_key_parameter(prop: Property, resolve: Resolve) -> Schema:
    parameter = _path_parameter(prop, "Key", resolve)
    parameter["description"] = f"The {prop.name} of the entity, as is (quotes need no escaping)."
    return parameter


def _path_parameter(prop: Property, name: str, resolve: Resolve) -> Schema:
    schema = property_schema(prop, resolve)
    bounds = _ID_BOUNDS if schema["type"] == "integer" else {}
    return {"name": name, "in": "path", "required": True, "type": schema["type"],
            **({"format": schema["format"]} if "format" in schema else {}), **bounds,
            "description": schema.get("description") or f"The {prop.name} of the entity.",
            "x-ms-summary": schema["x-ms-summary"]}


# Spelled out: clients generating values (schemathesis) do not derive them from "int64". Every
# integer key is a Kintone id, counted from 1 (a smaller one is a 404 without a Kintone call).
_ID_BOUNDS = {"minimum": FIRST_ID, "maximum": INT64_MAX}
