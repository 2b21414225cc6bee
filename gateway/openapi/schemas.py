"""JSON schemas (Swagger 2.0 dialect) of the entities the gateway reads and writes.

Per record set there are four definitions: the entity as read (``Customers``), the body that
creates one (``Customers_New``: only writable fields, Kintone's required fields required), the
body that changes one (``Customers_Changes``: the same fields, none required) and a page of the
list (``Customers_Page``). ``_`` cannot occur in an ASCII set name (see ``naming``), so these
keys never clash with another set's.

Nullable values: Swagger 2.0 has no null type and Power Automate breaks on a typed property that
comes back null, so every nullable property carries ``x-nullable: true`` (which Microsoft's
connector schema accepts and schemathesis honours). Complex values (``Kintone.Entity``, files,
subtable rows) are inlined rather than referenced: a ``$ref`` cannot carry ``x-nullable`` and
connector designers show inlined properties better.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..model import ComplexType, EntitySet, Property, edm
from ..writes.values import lookup_copies, read_only_reason

Schema = dict[str, Any]
Resolve = Callable[[str], ComplexType]  # a complex type by qualified name
Keep = Callable[[Property], bool]  # which properties a schema shows

DEFINITIONS = "#/definitions/"
ERROR = "Gateway_ODataError"  # generated from own_api.ODataErrorSchema
ETAG = "@odata.etag"

_PRIMITIVES: Mapping[str, Schema] = {
    edm.STRING: {"type": "string"},
    edm.INT64: {"type": "integer", "format": "int64"},
    edm.DECIMAL: {"type": "number"},
    edm.BOOLEAN: {"type": "boolean"},
    edm.DATE: {"type": "string", "format": "date"},
    edm.DATETIME_OFFSET: {"type": "string", "format": "date-time"},
    # No Swagger format fits a time of day (Microsoft's schema has no "time").
    edm.TIME_OF_DAY: {"type": "string"},
}

CHOICE_TYPES = frozenset({"DROP_DOWN", "RADIO_BUTTON", "CHECK_BOX", "MULTI_SELECT"})
# Keys and the revision: no Kintone field a user would recognise.
_PSEUDO_FIELDS = frozenset({edm.ID, edm.REVISION, edm.ROW_ID})
# What a new comment is made of; the first three are required.
_COMMENT_INPUT = ("AppId", "RecordId", "Text", "Mentions")


def ref(name: str) -> Schema:
    return {"$ref": DEFINITIONS + name}


def _everything(prop: Property) -> bool:
    return True


def property_schema(prop: Property, resolve: Resolve, keep: Keep = _everything) -> Schema:
    """The schema of one property's value, with its Kintone label as ``x-ms-summary``; of a
    complex value, only the properties ``keep`` accepts."""
    element = _element(prop, resolve, keep)
    schema = {"type": "array", "items": element} if prop.collection else element
    if prop.nullable and not prop.collection:
        schema["x-nullable"] = True
    return {**schema, **_annotations(prop)}


def _element(prop: Property, resolve: Resolve, keep: Keep) -> Schema:
    if prop.edm_type in _PRIMITIVES:
        return {**_PRIMITIVES[prop.edm_type], **choices(prop.kintone_type, prop.props)}
    complex_type = prop.row_type or resolve(prop.edm_type)
    return object_schema(complex_type.properties, resolve, keep=keep)


def choices(kintone_type: str | None, props: Mapping[str, Any]) -> Schema:
    """``enum`` and ``x-ms-enum-values`` for a field with options (in the form's order), so a
    connector offers a list instead of a free-text box; nothing for other fields."""
    options = props.get("options") if kintone_type in CHOICE_TYPES else None
    if not isinstance(options, Mapping) or not options:
        return {}
    ordered = sorted(options.items(), key=lambda item: int(item[1].get("index", 0)))
    return {"enum": [key for key, _ in ordered],
            "x-ms-enum-values": [{"value": key, "displayName": option.get("label") or key}
                                 for key, option in ordered]}


def _annotations(prop: Property) -> Schema:
    out: Schema = {"x-ms-summary": prop.label or prop.name}
    if prop.kintone_code and prop.kintone_type and prop.kintone_type not in _PSEUDO_FIELDS:
        out["description"] = f"Kintone field {prop.kintone_code} ({prop.kintone_type})."
    return out


def object_schema(props: Iterable[Property], resolve: Resolve, *, required: Iterable[str] = (),
                  keep: Keep = _everything) -> Schema:
    schema: Schema = {
        "type": "object",
        "properties": {p.name: property_schema(p, resolve, keep) for p in props if keep(p)},
    }
    needed = list(required)
    if needed:
        schema["required"] = needed
    return schema


def entity_definition(entity_set: EntitySet, resolve: Resolve) -> Schema:
    """An entity as a read returns it (every property optional: ``$select`` leaves some out)."""
    schema = object_schema(entity_set.entity_type.properties, resolve)
    if entity_set.kind == "records":
        etag = {"type": "string", "readOnly": True, "x-ms-summary": "ETag",
                "description": "The record's revision, for If-Match."}
        schema["properties"] = {ETAG: etag, **schema["properties"]}
    return {**schema, "description": f"An entity of {source(entity_set)}."}


_STATIC_SOURCES = {"apps": "the Kintone apps", "comments": "the comments on records",
                   "fields": "the form fields of the exposed apps"}


def source(entity_set: EntitySet) -> str:
    """Where the entities of a set come from, for descriptions."""
    if entity_set.kind == "records":
        return f"the Kintone app {entity_set.app_name} (app {entity_set.app_id})"
    if entity_set.kind == "subtable":
        return (f"the subtable {entity_set.subtable_code} of the Kintone app "
                f"{entity_set.app_name} (app {entity_set.app_id})")
    return _STATIC_SOURCES[entity_set.kind]


def input_definition(entity_set: EntitySet, resolve: Resolve, *, new: bool) -> Schema:
    """The body of a create (``new``) or of an update/upsert of ``entity_set``."""
    keep = writable(entity_set)
    if entity_set.kind == "comments":
        props = tuple(entity_set.property(name) for name in _COMMENT_INPUT)
        required = _COMMENT_INPUT[:3] if new else ()
    else:
        props = entity_set.entity_type.properties
        required = tuple(p.name for p in props if new and keep(p) and _required_on_create(p))
    schema = object_schema(props, resolve, required=required, keep=keep)
    text = "The values of the new entity." if new else "The values to change."
    return {**schema, "description": text}


def writable(entity_set: EntitySet) -> Keep:
    """Whether the write path accepts a property (of a record or of a subtable row): the same
    rules it applies, so the document never offers a field that the write would refuse."""
    copies = lookup_copies(entity_set.entity_type)
    return lambda prop: read_only_reason(prop, copies) is None


def _required_on_create(prop: Property) -> bool:
    # Kintone fills a required field's default value when a new record leaves it out.
    return prop.required and not prop.props.get("defaultValue")


def page_definition(entity_name: str, entity_set: EntitySet) -> Schema:
    """One page of a list: ``value`` plus the control information OData adds."""
    return {
        "type": "object",
        "description": f"A page of {entity_set.name}; follow @odata.nextLink for the next one.",
        "properties": {
            "@odata.context": {"type": "string", "x-ms-summary": "Context URL",
                               "x-ms-visibility": "internal"},
            "@odata.count": {"type": "integer", "format": "int64", "x-ms-summary": "Count"},
            "@odata.nextLink": {"type": "string", "x-ms-summary": "Next link",
                                "x-ms-visibility": "advanced"},
            "value": {"type": "array", "items": ref(entity_name), "x-ms-summary": "Value"},
        },
        "required": ["value"],
    }


def set_definitions(entity_set: EntitySet, name: str, resolve: Resolve) -> dict[str, Schema]:
    """The definitions the operations of ``entity_set`` refer to, ``name`` being its ASCII
    singular name: the entity, a page of them, and the bodies of the writes it allows."""
    definitions = {name: entity_definition(entity_set, resolve),
                   f"{name}_Page": page_definition(name, entity_set)}
    if entity_set.kind in ("records", "comments"):
        definitions[f"{name}_New"] = input_definition(entity_set, resolve, new=True)
    if entity_set.kind == "records":
        definitions[f"{name}_Changes"] = input_definition(entity_set, resolve, new=False)
    return definitions
