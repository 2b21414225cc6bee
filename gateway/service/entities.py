"""Kintone JSON → OData entities (``{property name: Python value}``), and which Kintone fields a
query needs so that Kintone sends no more than that."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from functools import lru_cache
from typing import Any

from odata_query import ast

from ..compiled import Conversion, Inline, entity_function
from ..kintone.layout import RecordLayout
from ..kintone.models import Record
from ..model import ComplexType, EntitySet, EntityType, Property, edm
from ..odata.errors import bad_request
from ..odata.payload import json_number
from ..odata.tree import Node

ID = "$id"
REVISION = "$revision"
CONVERTERS_KEPT = 256  # record converters (one per entity type and set of properties) kept
# How a static set's value (apps.json, comments.json) reads: the EDM type's Kintone twin.
_STATIC_KINDS = {edm.INT64: edm.ID, edm.DATETIME_OFFSET: "DATETIME", edm.STRING: "LINK"}


def selected(entity_set: EntitySet, select: Sequence[str] | None) -> tuple[str, ...]:
    """The properties each entity needs: those ``$select`` names (all when absent), plus the key
    and a record's revision, which the payload needs for ids and ETags whatever is selected.
    ``A/B`` selects part of ``A``: ``A`` is read. Unknown names are a 400; a navigation
    property is written when expanded, whether selected or not."""
    entity_type = entity_set.entity_type
    if not select:
        return tuple(prop.name for prop in entity_type.properties)
    navigation = {nav.name for nav in entity_type.navigation}
    # A navigation property in $select (as Power Query writes beside $expand) reads nothing.
    roots = [_select_root(entity_type, path) for path in select if path not in navigation]
    revision = [entity_set.name_for_code(REVISION)] if entity_set.kind == "records" else []
    always = [*entity_type.key, *revision]
    return tuple(dict.fromkeys([*always, *roots]))


def _select_root(entity_type: EntityType, path: str) -> str:
    root, slash, _ = path.partition("/")
    if not entity_type.has_property(root):
        raise bad_request(f"The type {entity_type.name} has no property '{root}'.", root)
    prop = entity_type.property(root)
    if slash and prop.edm_type.startswith("Edm."):
        raise bad_request(f"'{path}': {root} has no parts to select.", "$select")
    return root


def orderable(entity_set: EntitySet, path: str) -> Property:
    """The property an ``$orderby`` item names: a primitive one, else a 400."""
    if not entity_set.entity_type.has_property(path):
        raise bad_request(f"The type {entity_set.entity_type.name} has no property '{path}'.",
                          path)
    prop = entity_set.property(path)
    if prop.collection or not prop.edm_type.startswith("Edm."):
        raise bad_request(f"'{path}' is not a primitive property and cannot be ordered by.",
                          "$orderby")
    return prop


def filter_names(tree: Node | None, entity_type: EntityType) -> set[str]:
    """The properties a ``$filter`` tree reads (lambda variables are not properties)."""
    if tree is None:
        return set()
    return {name for name in _identifiers(tree) if entity_type.has_property(name)}


def _identifiers(node: Node) -> Iterator[str]:
    if isinstance(node, ast.Identifier):
        yield node.name
    for value in vars(node).values():
        children = value if isinstance(value, list) else [value]
        for child in children:
            if isinstance(child, Node):
                yield from _identifiers(child)


def record_fields(entity_type: EntityType, names: Iterable[str]) -> list[str]:
    """The Kintone field codes holding ``names``, plus ``$id`` (paging and keys need it)."""
    codes = (entity_type.property(name).kintone_code for name in names)
    return list(dict.fromkeys([ID, *(code for code in codes if code)]))


def record_entity(entity_type: EntityType, record: Record, names: Iterable[str]) -> dict:
    """A record (read format) as an entity with the properties ``names``.

    A field missing from the record (hidden by field permissions, a feature turned off) reads
    as null, or as an empty collection.
    """
    return record_converter(entity_type, names)(record)


def record_converter(entity_type: EntityType, names: Iterable[str], *,
                     json_ready: bool = False, layout: RecordLayout | None = None
                     ) -> Callable[[Any], dict]:
    """``record_entity`` for many records: the properties are looked up once, not per value,
    and their conversions made one function (``gateway.compiled``), kept for the reads that follow.

    ``json_ready``: numbers, dates and timestamps come in the form the payload writes them
    (see ``_JSON_FORMS``), for entities that are only written out (no residual to evaluate,
    no ``IEEE754Compatible``): parsing each value only to write it back is most of a read's
    work. ``layout``: the records are its ``Row``s (it decodes every field ``names`` hold),
    else Kintone's dicts.
    """
    return _record_converter(entity_type, tuple(names), json_ready, layout)


@lru_cache(maxsize=CONVERTERS_KEPT)
def _record_converter(entity_type: EntityType, names: tuple[str, ...], json_ready: bool,
                      layout: RecordLayout | None) -> Callable[[Any], dict]:
    value_converter = _json_ready_converter if json_ready else _value_converter
    props = [entity_type.property(name) for name in names]
    codes = [prop.kintone_code for prop in props]
    values = _cell_values(codes) if layout is None else layout.values(codes)  # type: ignore[arg-type]
    return entity_function(names, [value_converter(prop) for prop in props], values)


def _cell_values(codes: Sequence[str | None]) -> Callable[[Record], list[Any]]:
    """A dict record's values of the fields ``codes`` (missing, or no code: None)."""
    def values(record: Record) -> list[Any]:
        return [cell.get("value") if (cell := record.get(code)) else None  # type: ignore[arg-type]
                for code in codes]
    return values


def _value_converter(prop: Property) -> Conversion:
    """``prop.to_odata``, with the converter of a plain field chosen once, not per value."""
    if prop.row_type is None and prop.kintone_type is not None:
        with suppress(ValueError):  # an unknown type: to_odata says so when a value comes
            convert = edm.converter(prop.kintone_type, prop.props)
            template = edm.INLINE.get(convert)
            return convert if template is None else Inline(template, {"f": convert})
    return prop.to_odata


# Value types whose Kintone text, when it has exactly this shape, is already the value's OData
# JSON form: what ``payload`` writes for the parsed value (a number as that JSON number, a date
# as ``2024-05-01``, a timestamp in UTC without fractions as ``2024-05-01T09:30:00Z``). Any
# other shape is parsed, and written by the payload as usual.
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z").fullmatch
_ITSELF = None  # the text is the JSON form itself
_JSON_FORMS: Mapping[str, tuple[Callable[[str], Any], Callable[[str], Any] | None]] = {
    "NUMBER": (re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?").fullmatch, json_number),
    "DATE": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch, _ITSELF),
    "DATETIME": (_TIMESTAMP, _ITSELF),
    "CREATED_TIME": (_TIMESTAMP, _ITSELF),
    "UPDATED_TIME": (_TIMESTAMP, _ITSELF),
}
_IN_FORM = "{as_json}({v}) if {v}.__class__ is str and {has_form}({v}) else {parse}({v})"
_TEXT_IN_FORM = "{v} if {v}.__class__ is str and {has_form}({v}) else {parse}({v})"


def _json_ready_converter(prop: Property) -> Conversion:
    parse = _value_converter(prop)
    form = (_JSON_FORMS.get(edm.value_type(prop.kintone_type, prop.props))
            if prop.row_type is None and prop.kintone_type is not None else None)
    if form is None:
        return parse
    assert not isinstance(parse, Inline)  # a number's or a time's converter is never inlined
    has_form, as_json = form
    if as_json is _ITSELF:
        return Inline(_TEXT_IN_FORM, {"has_form": has_form, "parse": parse})
    return Inline(_IN_FORM, {"as_json": as_json, "has_form": has_form, "parse": parse})


def row_entities(entity_set: EntitySet, record: Record, row_type: ComplexType) -> list[dict]:
    """The rows of a record's subtable as flat entities ``{RecordId, RowId, inner fields}``."""
    record_id = int(record[ID]["value"])
    rows = (record.get(entity_set.subtable_code or "") or {}).get("value") or []
    return [{"RecordId": record_id, **row_type.row_to_odata(row)} for row in rows]


def project(entity: Mapping[str, Any], names: Sequence[str]) -> dict:
    return {name: entity[name] for name in names}


def static_entity(entity_type: EntityType, source: Mapping[str, Any],
                  given: Mapping[str, Any] | None = None) -> dict:
    """An ``Apps``/``Comments`` entity from Kintone JSON; ``given`` supplies values the JSON
    does not hold (a comment's app and record)."""
    given = given or {}
    return {
        prop.name: given[prop.name] if prop.name in given else _static_value(prop, source)
        for prop in entity_type.properties
    }


def _static_value(prop: Property, source: Mapping[str, Any]) -> Any:
    value: Any = source
    for part in (prop.kintone_code or "").split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if prop.edm_type == edm.MENTION:
        return edm.mentions(value)
    return edm.to_odata(_STATIC_KINDS[prop.edm_type], value)
