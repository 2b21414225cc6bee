"""Examples for the entity schemas and write bodies, built from each field's type and form
settings: a choice field's first option, a field's default value, a number within its bounds,
text within its length, a link of its protocol. Swagger UI and Power Automate show them as
samples; schemathesis's examples phase sends them.

A write body's example holds the fields a client can fill without knowing the Kintone data:
users, organisations, groups, files and lookups are left out unless Kintone requires them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..model import EntitySet, Property, edm
from .schemas import Keep, Resolve, Schema, writable

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


def entity_example(props: Iterable[Property], resolve: Resolve) -> dict[str, Any]:
    """An entity as a read returns it: every property."""
    return {p.name: value(p, resolve) for p in props}


def input_example(props: Iterable[Property], resolve: Resolve, keep: Keep) -> dict[str, Any]:
    """A write body: the writable properties a client can fill on its own (a new row)."""
    return {p.name: value(p, resolve, keep=keep) for p in props
            if keep(p) and p.kintone_type != edm.ROW_ID and (p.required or _fillable(p))}


def _fillable(prop: Property) -> bool:
    return not prop.lookup and prop.kintone_type not in _NEEDS_DATA


def value(prop: Property, resolve: Resolve, keep: Keep | None = None) -> Any:
    """One property's example value (a list of one for a collection)."""
    one = _one(prop, resolve, keep)
    return [one] if prop.collection else one


def _one(prop: Property, resolve: Resolve, keep: Keep | None) -> Any:
    settings = prop.props
    options = sorted((settings.get("options") or {}).values(),
                     key=lambda o: int(o.get("index", 0)))
    if options:
        return options[0].get("label")
    default = settings.get("defaultValue")
    if prop.row_type is not None:
        inner = prop.row_type.properties
        return (entity_example(inner, resolve) if keep is None
                else input_example(inner, resolve, keep))
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


def add_examples(definitions: dict[str, Schema], entity_set: EntitySet, name: str,
                 resolve: Resolve, app_id: int | None) -> None:
    """Puts an ``example`` on the definitions of ``entity_set`` (named ``name``) that exist:
    the entity, its create, change and upsert bodies; ``app_id`` is a record app for a
    comment's example."""
    props = entity_set.entity_type.properties
    definitions[name]["example"] = _within_enums(entity_example(props, resolve),
                                                 definitions[name])
    if entity_set.kind == "comments":
        definitions[f"{name}_New"]["example"] = {"AppId": app_id or 1, "RecordId": 1,
                                                 "Text": "Thank you, done."}
        return
    keep = writable(entity_set)
    for key, schema in definitions.items():
        if key.startswith(f"{name}_") and key != f"{name}_Page":
            allowed = schema["properties"]
            schema["example"] = {k: v for k, v in input_example(props, resolve, keep).items()
                                 if k in allowed}


def _within_enums(example: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """``example`` with each property the schema restricts to an enum (the Status field's
    states, ``process_states``) set to its first value."""
    for key, prop in schema.get("properties", {}).items():
        if prop.get("enum") and example.get(key) not in prop["enum"]:
            example[key] = prop["enum"][0]
    return example
