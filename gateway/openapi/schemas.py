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
from ..odata.numbers import FIRST_ID
from ..writes.comments import COMMENT_INPUT, MENTION_TYPES
from ..writes.upsert import alternate_keys
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


def ref(name: str) -> Schema:
    return {"$ref": DEFINITIONS + name}


def _everything(prop: Property) -> bool:
    return True


def property_schema(prop: Property, resolve: Resolve, keep: Keep = _everything) -> Schema:
    """The schema of one property's value, with its Kintone label as ``x-ms-summary``; of a
    complex value, only the properties ``keep`` accepts."""
    element = _element(prop, resolve, keep)
    schema: Schema = {"type": "array", "items": element} if prop.collection else element
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
    required: tuple[str, ...]
    if entity_set.kind == "comments":
        props = tuple(entity_set.property(name) for name in COMMENT_INPUT)
        required = COMMENT_INPUT[:3] if new else ()
    else:
        props = entity_set.entity_type.properties
        required = tuple(p.name for p in props if new and keep(p) and _required_on_create(p))
    schema = object_schema(props, resolve, required=required, keep=keep)
    _close(schema, [p for p in props if keep(p)], comment=entity_set.kind == "comments")
    text = "The values of the new entity." if new else "The values to change."
    return {**schema, "description": text}


# What the write reads as a time of day (``time.fromisoformat``, without a zone).
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
# What each item of a list of references must name (the write refuses an empty one); any other
# property of the item (a user's Name, a file's Size) is ignored, so those items stay open.
_REFERENCE_CODES = {edm.ENTITY: "Code", edm.MENTION: "Code", edm.FILE: "FileKey"}


def _close(schema: Schema, props: list[Property], *, comment: bool) -> None:
    """A write body as strict as the write: no property it refuses as unknown (rows included),
    no null or empty value where Kintone says "required", no reference without its code."""
    schema["additionalProperties"] = False
    for prop in props:
        value = schema["properties"][prop.name]
        if _enforced(prop) or (comment and prop.name in COMMENT_INPUT[:3]):
            _refuse_empty(value)
        else:
            value["x-nullable"] = True  # null empties the field (a list too); a row: new
        if prop.row_type is not None:
            row_props = [p for p in prop.row_type.properties if p.name in value["items"]
                         ["properties"]]
            _close(value["items"], row_props, comment=False)
        code = _REFERENCE_CODES.get(prop.edm_type)
        if code is not None:
            item = value["items"]
            item["required"] = [code]
            _refuse_empty(item["properties"][code])
        if prop.edm_type == edm.MENTION:
            mention_type = value["items"]["properties"]["Type"]
            mention_type.pop("x-nullable", None)
            mention_type["enum"] = list(MENTION_TYPES)
        if prop.edm_type == edm.INT64 and (comment or prop.kintone_type == edm.ROW_ID):
            value["minimum"] = FIRST_ID  # an app, record or row id
        if prop.edm_type == edm.TIME_OF_DAY:
            value["pattern"] = TIME_PATTERN


def _enforced(prop: Property) -> bool:
    """Whether Kintone refuses an empty value: a required field, but a radio button (which
    Kintone always reports required, as its form always has one selected)."""
    return prop.required and prop.kintone_type != "RADIO_BUTTON"


def _refuse_empty(value: Schema) -> None:
    value.pop("x-nullable", None)
    if value["type"] == "string":
        value["minLength"] = 1
    elif value["type"] == "array":
        value["minItems"] = 1


def writable(entity_set: EntitySet) -> Keep:
    """Whether the write path accepts a property (of a record or of a subtable row): the same
    rules it applies, so the document never offers a field that the write would refuse."""
    copies = lookup_copies(entity_set.entity_type)
    return lambda prop: read_only_reason(prop, copies) is None


def _required_on_create(prop: Property) -> bool:
    # Kintone fills a required field's default value when a new record leaves it out.
    return _enforced(prop) and not prop.props.get("defaultValue")


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
        changes = input_definition(entity_set, resolve, new=False)
        definitions[f"{name}_Changes"] = changes
        for number, prop in enumerate(alternate_keys(entity_set.entity_type), 1):
            definitions[upsert_definition(name, number)] = _without(changes, prop.name)
    return definitions


def upsert_definition(name: str, number: int) -> str:
    """The body of an upsert by the ``number``-th alternate key: ``Customers_Upsert``,
    ``Customers_Upsert2`` ... (the key's own name may not be ASCII)."""
    return f"{name}_Upsert{'' if number == 1 else number}"


def _without(changes: Schema, key: str) -> Schema:
    # The key's value comes from the URL; the write refuses a different one in the body.
    properties = {n: s for n, s in changes["properties"].items() if n != key}
    return {**changes, "properties": properties,
            "description": f"The values to set ({key} comes from the URL)."}
