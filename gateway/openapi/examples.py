"""Examples for the entity schemas and write bodies. Swagger UI and Power Automate show them as
samples; schemathesis's examples phase sends them.

Where a record of the app is given (``ExampleRecords``: the demo passes the first record of each
demo app), the examples are that record, as a read returns it, and its subtables' first row;
otherwise they are made up from each field's type and form settings: a choice field's first
option, a field's default value, a number within its bounds, text within its length, a link of
its protocol. A file is always made up: a record's file keys are one-time download keys.

A write body's example holds the fields of the entity a client can fill without knowing the
Kintone data: made up, users, organisations, groups, files and lookups are left out unless
Kintone requires them; from a record, only files are (a read's file key is no upload's).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..kintone.models import Record
from ..model import EntitySet, Model, Property, edm
from ..odata.payload import dumps, entity_shaper
from ..service.entities import record_entity, row_entities
from .schemas import Keep, Resolve, Schema, writable

ExampleRecords = Mapping[int, Record]  # app id -> one of its records, as Kintone reads it
Entity = dict[str, Any]

_DATE, _TIME = "2024-04-01", "09:30"
_SCALARS: dict[str, Any] = {
    edm.INT64: 1, edm.DECIMAL: 1, edm.BOOLEAN: True, edm.DATE: _DATE, edm.TIME_OF_DAY: _TIME,
    edm.DATETIME_OFFSET: f"{_DATE}T{_TIME}:00Z",
}
_LINKS = {"WEB": "https://www.example.com/", "MAIL": "someone@example.com",
          "CALL": "+81-3-0000-0000"}
_REFERENCES: dict[str, dict[str, Any]] = {
    edm.ENTITY: {"Code": "user1", "Name": "User One"},
    edm.MENTION: {"Code": "user1", "Type": "USER"},
    edm.FILE: {"ContentType": "text/plain", "FileKey": "file-key", "Name": "notes.txt", "Size": 12}}
# Input the example cannot make up: the codes of existing users, files, lookup keys.
_NEEDS_DATA = frozenset({"USER_SELECT", "ORGANIZATION_SELECT", "GROUP_SELECT", "FILE",
                         "STATUS_ASSIGNEE", "CREATOR", "MODIFIER"})
Fillable = Callable[[Property], bool]  # which optional properties a body example holds


def entity_example(props: Iterable[Property], resolve: Resolve) -> Entity:
    """An entity as a read returns it, made up: every property."""
    return {p.name: value(p, resolve) for p in props}


def input_example(props: Iterable[Property], entity: Mapping[str, Any], keep: Keep,
                  fillable: Fillable) -> Entity:
    """A write body (a new row in a subtable) with the values of ``entity``: the writable
    properties Kintone requires, and the ``fillable`` ones that have a value."""
    out: Entity = {}
    for prop in props:
        if not keep(prop) or prop.kintone_type == edm.ROW_ID:
            continue
        given = entity.get(prop.name)
        if prop.required or (fillable(prop) and given not in (None, [], "")):
            out[prop.name] = ([input_example(prop.row_type.properties, row, keep, fillable)
                               for row in given or ()]
                              if prop.row_type is not None else given)
    return out


def _made_up_fillable(prop: Property) -> bool:
    return not prop.lookup and prop.kintone_type not in _NEEDS_DATA


def _read_fillable(prop: Property) -> bool:
    return prop.edm_type != edm.FILE


def value(prop: Property, resolve: Resolve) -> Any:
    """One property's made-up value (a list of one for a collection)."""
    one = _one(prop, resolve)
    return [one] if prop.collection else one


def _one(prop: Property, resolve: Resolve) -> Any:
    settings = prop.props
    options = sorted((settings.get("options") or {}).items(),
                     key=lambda item: int(item[1].get("index", 0)))
    if options:
        return options[0][0]  # the option's key: the value Kintone reads and writes
    default = settings.get("defaultValue")
    if prop.row_type is not None:
        return entity_example(prop.row_type.properties, resolve)
    if prop.edm_type in _REFERENCES:
        return dict(_REFERENCES[prop.edm_type])
    if prop.edm_type == edm.DECIMAL:
        return _number(settings, default)
    if prop.edm_type in _SCALARS:
        return _SCALARS[prop.edm_type]
    if isinstance(default, str) and default:
        return default
    if prop.kintone_type == "LINK":
        return _LINKS.get(str(settings.get("protocol")), _LINKS["WEB"])
    return _text(prop)


def _number(settings: Any, default: Any) -> int | float:
    low, high = settings.get("minValue"), settings.get("maxValue")
    number = Decimal(default) if default not in (None, "") else Decimal(1)
    if low not in (None, ""):
        number = max(number, Decimal(low))
    if high not in (None, ""):
        number = min(number, Decimal(high))
    return int(number) if number == number.to_integral_value() else float(number)


def _text(prop: Property) -> str:
    text = prop.label or prop.name
    limit = prop.props.get("maxLength")
    return text[:int(limit)] if limit not in (None, "") else text


def read_example(model: Model, entity_set: EntitySet, record: Record | None) -> Entity | None:
    """``record`` (of the app of ``entity_set``) as a read of the set returns it: the record,
    or its subtable's first row; None without a record or a row."""
    if record is None or entity_set.kind not in ("records", "subtable"):
        return None
    if entity_set.kind == "records":
        names = [p.name for p in entity_set.entity_type.properties]
        entity = record_entity(entity_set.entity_type, record, names)
    else:
        parent = model.entity_set(entity_set.parent or "")
        row_type = parent.property_for_code(entity_set.subtable_code or "").row_type
        rows = row_entities(entity_set, record, row_type) if row_type is not None else []
        if not rows:
            return None
        entity = rows[0]
    # As the response writes it: numbers, dates and times in their JSON form, the ETag.
    return json.loads(dumps(entity_shaper(entity_set)(entity)))


def add_examples(definitions: dict[str, Schema], entity_set: EntitySet, name: str,
                 resolve: Resolve, app_id: int | None, read: Entity | None = None) -> None:
    """Puts an ``example`` on the definitions of ``entity_set`` (named ``name``) that exist:
    the entity, its create, change and upsert bodies; ``read`` is an entity of the set as read
    (else they are made up); ``app_id`` is a record app for a comment's example."""
    props = entity_set.entity_type.properties
    made_up = entity_example(props, resolve)
    entity = made_up if read is None else _without_files(props, read, made_up)
    definitions[name]["example"] = _within_enums(
        {k: v for k, v in entity.items() if k in definitions[name]["properties"]},
        definitions[name])
    if entity_set.kind == "comments":
        definitions[f"{name}_New"]["example"] = {"AppId": app_id or 1, "RecordId": 1,
                                                 "Text": "Thank you, done."}
        return
    keep = writable(entity_set)
    body = input_example(props, entity, keep,
                         _made_up_fillable if read is None else _read_fillable)
    for key, schema in definitions.items():
        if key.startswith(f"{name}_") and key != f"{name}_Page":
            allowed = schema["properties"]
            schema["example"] = {k: v for k, v in body.items() if k in allowed}


def _without_files(props: Iterable[Property], read: Mapping[str, Any],
                   made_up: Mapping[str, Any]) -> Entity:
    """``read`` with the made-up files: a read's file keys are one-time download keys (and
    differ between two demo sandboxes)."""
    out = dict(read)
    for prop in props:
        if prop.edm_type == edm.FILE:
            out[prop.name] = made_up[prop.name]
        elif prop.row_type is not None and read.get(prop.name):
            out[prop.name] = [_without_files(prop.row_type.properties, row, made_up[prop.name][0])
                              for row in read[prop.name]]
    return out


def _within_enums(example: Entity, schema: Schema) -> Entity:
    """``example`` with each property the schema restricts to an enum (the Status field's
    states, ``process_states``) set to its first value."""
    for key, prop in schema.get("properties", {}).items():
        if prop.get("enum") and example.get(key) not in prop["enum"]:
            example[key] = prop["enum"][0]
    return example

