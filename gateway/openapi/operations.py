"""The operations of one entity set, as Swagger 2.0 path items.

The contract (shared with the write path): per record set ``List<Set>`` ``GET /<Set>``,
``Get<Set>`` ``GET /<Set>({Id})``, ``Create<Set>`` ``POST /<Set>`` (201), ``Update<Set>``
``PATCH /<Set>({Id})`` (optional ``If-Match``), ``Upsert<Set>`` ``PATCH /<Set>(<Field>='{Key}')``
for each alternate key of the write path (``Upsert<Set>By2`` ... for more), ``Delete<Set>``
``DELETE /<Set>({Id})`` (204), ``GetCount<Set>`` ``GET /<Set>/$count`` (text/plain). Subtable
sets are read-only; ``Apps`` and ``Fields`` have list and get; ``Comments`` list, create and
delete.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..model import EntitySet, Property, edm
from ..writes.upsert import alternate_keys
from .naming import OperationIds, SetNames
from .schemas import ERROR, Resolve, Schema, property_schema, ref, source

PARAMETERS = "#/parameters/"
RESPONSES = "#/responses/"

_OPERATIONS: Mapping[str, tuple[str, ...]] = {
    "records": ("list", "count", "create", "get", "update", "delete", "upsert"),
    "subtable": ("list", "count", "get"),
    "apps": ("list", "get"),
    "fields": ("list", "get"),
    "comments": ("list", "create", "delete"),
}
_NOUNS = {"records": "record", "subtable": "row", "apps": "app", "fields": "field",
          "comments": "comment"}


def _option(name: str, summary: str, description: str, visibility: str, **schema: Any) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "x-ms-summary": summary, "x-ms-visibility": visibility, **schema}


# The OData query options, shared by every list through ``#/parameters/``.
QUERY_OPTIONS: Mapping[str, Schema] = {
    "filter": _option("$filter", "Filter query", "An OData filter, e.g. "
                      "Status eq 'Open' and Amount gt 100.", "important", type="string"),
    "select": _option("$select", "Select query", "The properties to return, separated by "
                      "commas (all when empty).", "advanced", type="string"),
    "orderby": _option("$orderby", "Order by", "The properties to sort by, each optionally "
                       "followed by asc or desc, separated by commas.", "advanced",
                       type="string"),
    "top": _option("$top", "Top count", "The most entities to return.", "important",
                   type="integer", format="int32", minimum=0),
    "skip": _option("$skip", "Skip count", "How many entities to skip.", "advanced",
                    type="integer", format="int32", minimum=0),
    "count": _option("$count", "Include count", "Whether to return the total number of "
                     "matching entities as @odata.count.", "advanced", type="boolean"),
    "comment_filter": {**_option(
        "$filter", "Filter query", "Which record's comments: AppId eq <app id> and RecordId eq "
        "<record id> (both are required), optionally with a condition on Id.", "important",
        type="string"), "required": True},
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
_PRECONDITION = ("412", "PreconditionFailed")


@dataclass(frozen=True)
class Subject:
    """An entity set and what its operations are called."""

    entity_set: EntitySet
    names: SetNames
    resolve: Resolve

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


def _list(s: Subject) -> Built:
    comments = s.kind == "comments"
    options = ("comment_filter", *_LIST_OPTIONS[1:]) if comments else _LIST_OPTIONS
    operation = {
        "operationId": f"List{s.names.plural}",
        "summary": f"List {s.plural_noun}",
        "description": f"Lists the entities of {s.source}, one page at a time (follow "
                       f"@odata.nextLink for more).",
        "parameters": [_option_ref(name) for name in options],
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
        "parameters": [*_key_parameters(s), _option_ref("select")],
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
    operation = {
        "operationId": f"Update{s.names.singular}",
        "summary": f"Update {s.noun}",
        "description": f"Changes the given properties of an entity of {s.source}; the others "
                       f"keep their values.",
        "parameters": [*_key_parameters(s), _option_ref("if_match"),
                       _body(f"{s.names.singular}_Changes", "The properties to change.")],
        "responses": _responses(_changed(s), _NOT_FOUND, _PRECONDITION),
    }
    return [(_key_path(s), "patch", operation)]


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


def _upsert(s: Subject) -> Built:
    built: Built = []
    for number, prop in enumerate(alternate_keys(s.entity_set.entity_type), 1):
        suffix = "" if number == 1 else f"By{number}"
        quote = "'" if prop.edm_type == edm.STRING else ""
        operation = {
            "operationId": f"Upsert{s.names.singular}{suffix}",
            "summary": f"Upsert {s.noun} by {prop.name}",
            "description": f"Changes the entity of {s.source} whose {prop.name} has the given "
                           f"value, or creates it if there is none.",
            "parameters": [_unique_key_parameter(prop, s.resolve),
                           _body(f"{s.names.singular}_Changes", "The properties to set.")],
            "responses": _responses(_changed(s, created=True)),
        }
        path = f"/{s.entity_set.name}({prop.name}={quote}{{Key}}{quote})"
        built.append((path, "patch", operation))
    return built


_BUILDERS: Mapping[str, Callable[[Subject], Built]] = {
    "list": _list, "count": _count, "get": _get, "create": _create, "update": _update,
    "delete": _delete, "upsert": _upsert,
}


def _option_ref(name: str) -> Schema:
    return {"$ref": PARAMETERS + name}


def _body(definition: str, description: str) -> Schema:
    return {"name": "body", "in": "body", "required": True, "description": description,
            "x-ms-summary": "Body", "schema": ref(definition)}


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
    bounds = _INT64_BOUNDS if schema["type"] == "integer" else {}
    return {"name": name, "in": "path", "required": True, "type": schema["type"],
            **({"format": schema["format"]} if "format" in schema else {}), **bounds,
            "description": schema.get("description") or f"The {prop.name} of the entity.",
            "x-ms-summary": schema["x-ms-summary"]}


# Spelled out: clients generating values (schemathesis) do not derive them from "int64".
_INT64_BOUNDS = {"minimum": -(2**63), "maximum": 2**63 - 1}
