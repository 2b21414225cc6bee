"""Kintone field types → EDM types, and Kintone read-format values → OData JSON values.

Values come out as plain Python objects; serialising them (Decimal as a JSON number or, with
``IEEE754Compatible=true``, as a string; dates as ISO 8601) is the protocol layer's job.
Empty Kintone values become ``None``, or ``[]`` for collections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

NAMESPACE = "Kintone"

STRING = "Edm.String"
DECIMAL = "Edm.Decimal"
INT64 = "Edm.Int64"
BOOLEAN = "Edm.Boolean"
DATE = "Edm.Date"
DATETIME_OFFSET = "Edm.DateTimeOffset"
TIME_OF_DAY = "Edm.TimeOfDay"
ENTITY = f"{NAMESPACE}.Entity"
FILE = f"{NAMESPACE}.File"
MENTION = f"{NAMESPACE}.Mention"

# Kintone's pseudo-field types of `$id` and `$revision`, and ours for a subtable row's `id`.
ID = "__ID__"
REVISION = "__REVISION__"
ROW_ID = "__ROW_ID__"

SUBTABLE = "SUBTABLE"
REFERENCE_TABLE = "REFERENCE_TABLE"
# Returned by fields.json even when the feature is off (`"enabled": false`); then not in records.
FEATURE_TYPES = frozenset({"STATUS", "STATUS_ASSIGNEE", "CATEGORY"})


@dataclass(frozen=True)
class EdmKind:
    """How one Kintone type looks in OData: element type and whether it is a collection."""

    edm_type: str
    collection: bool = False


_TEXT = EdmKind(STRING)
_STRINGS = EdmKind(STRING, collection=True)
_ENTITIES = EdmKind(ENTITY, collection=True)

_KINDS: Mapping[str, EdmKind] = {
    ID: EdmKind(INT64),
    REVISION: EdmKind(INT64),
    ROW_ID: EdmKind(INT64),
    "RECORD_NUMBER": _TEXT,
    "SINGLE_LINE_TEXT": _TEXT,
    "MULTI_LINE_TEXT": _TEXT,
    "RICH_TEXT": _TEXT,
    "LINK": _TEXT,
    "DROP_DOWN": _TEXT,
    "RADIO_BUTTON": _TEXT,
    "STATUS": _TEXT,
    "NUMBER": EdmKind(DECIMAL),
    "DATE": EdmKind(DATE),
    "TIME": EdmKind(TIME_OF_DAY),
    "DATETIME": EdmKind(DATETIME_OFFSET),
    "CREATED_TIME": EdmKind(DATETIME_OFFSET),
    "UPDATED_TIME": EdmKind(DATETIME_OFFSET),
    "CHECK_BOX": _STRINGS,
    "MULTI_SELECT": _STRINGS,
    "CATEGORY": _STRINGS,
    "USER_SELECT": _ENTITIES,
    "ORGANIZATION_SELECT": _ENTITIES,
    "GROUP_SELECT": _ENTITIES,
    "STATUS_ASSIGNEE": _ENTITIES,
    "CREATOR": EdmKind(ENTITY),
    "MODIFIER": EdmKind(ENTITY),
    "FILE": EdmKind(FILE, collection=True),
}

# CALC results by the field's `format`; HOUR_MINUTE/DAY_HOUR_MINUTE are durations such as
# "25:01" that fit no EDM type a BI tool understands, so they stay text.
_CALC_KINDS: Mapping[str, str] = {
    "NUMBER": "NUMBER",
    "NUMBER_DIGIT": "NUMBER",
    "DATE": "DATE",
    "DATETIME": "DATETIME",
    "TIME": "TIME",
    "HOUR_MINUTE": "SINGLE_LINE_TEXT",
    "DAY_HOUR_MINUTE": "SINGLE_LINE_TEXT",
}


def value_type(kintone_type: str, props: Mapping[str, Any] | None = None) -> str:
    """The Kintone type whose value format a field's values have (a CALC's depends on `format`)."""
    if kintone_type != "CALC":
        return kintone_type
    # Kintone's default CALC format is NUMBER; fields.json may omit it in old apps.
    return _CALC_KINDS.get((props or {}).get("format") or "NUMBER", "SINGLE_LINE_TEXT")


def edm_kind(kintone_type: str, props: Mapping[str, Any] | None = None) -> EdmKind | None:
    """The EDM shape of a field type; ``None`` for types without a record value (GROUP,
    REFERENCE_TABLE, layout elements) and for types this module does not know.

    SUBTABLE is not here: its element type is a complex type the builder names per subtable.
    """
    return _KINDS.get(value_type(kintone_type, props))


def to_odata(kintone_type: str, value: Any, props: Mapping[str, Any] | None = None) -> Any:
    """One Kintone read-format value as the Python value of its OData property.

    ``props`` is the field's form property (only CALC's ``format`` matters). SUBTABLE values
    need their row type: use ``Property.to_odata``.
    """
    return converter(kintone_type, props)(value)


def converter(kintone_type: str, props: Mapping[str, Any] | None = None
              ) -> Callable[[Any], Any]:
    """What ``to_odata`` applies to values of a field type: for converting many values."""
    found = _CONVERTERS.get(value_type(kintone_type, props))
    if found is None:
        raise ValueError(f"no OData value for Kintone type {kintone_type!r}")
    return found


# Kintone's empty value is "" (or null): ``value in _BLANK`` below, not a helper call, as these
# converters run for every value of every record read.
_BLANK = (None, "")


def _text(value: Any) -> str | None:
    return None if value in _BLANK else str(value)


def _integer(value: Any) -> int | None:
    return None if value in _BLANK else int(value)


def parse_decimal(value: Any) -> Decimal | None:
    if value in _BLANK:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a Kintone number: {value!r}") from exc


def parse_date(value: Any) -> date | None:
    return None if value in _BLANK else date.fromisoformat(value)


def parse_time(value: Any) -> time | None:
    return None if value in _BLANK else time.fromisoformat(value)


def parse_datetime(value: Any) -> datetime | None:
    """Kintone timestamps are UTC with a `Z` (records, comments, apps with milliseconds)."""
    return None if value in _BLANK else datetime.fromisoformat(value)


def _strings(value: Any) -> list[str]:
    return list(value or [])


def _entity(value: Any) -> dict[str, Any] | None:
    """A ``{code, name}`` user/organisation/group as a ``Kintone.Entity``."""
    return None if not value else {"Code": value.get("code"), "Name": value.get("name")}


def _entities(value: Any) -> list[dict[str, Any] | None]:
    return [_entity(item) for item in value or []]


def _file(value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ContentType": value.get("contentType"),
        "FileKey": value.get("fileKey"),
        "Name": value.get("name"),
        "Size": _integer(value.get("size")),
    }


def _files(value: Any) -> list[dict[str, Any]]:
    return [_file(item) for item in value or []]


def mentions(value: Any) -> list[dict[str, Any]]:
    """A comment's ``mentions`` as ``Kintone.Mention`` values."""
    return [{"Code": item.get("code"), "Type": item.get("type")} for item in value or []]


_CONVERTERS: Mapping[str, Callable[[Any], Any]] = {
    **{name: _text for name, kind in _KINDS.items() if kind == _TEXT},
    **{name: _strings for name, kind in _KINDS.items() if kind == _STRINGS},
    **{name: _entities for name, kind in _KINDS.items() if kind == _ENTITIES},
    ID: _integer,
    REVISION: _integer,
    ROW_ID: _integer,
    "NUMBER": parse_decimal,
    "DATE": parse_date,
    "TIME": parse_time,
    "DATETIME": parse_datetime,
    "CREATED_TIME": parse_datetime,
    "UPDATED_TIME": parse_datetime,
    "CREATOR": _entity,
    "MODIFIER": _entity,
    "FILE": _files,
}

# The same conversions as expressions of ``{v}`` (the value) and ``{f}`` (the converter, for
# the values the expression leaves to it), for code generated per read (gateway.compiled):
# there a call per value is a good part of a page's time.
INLINE: Mapping[Callable[[Any], Any], str] = {
    _text: "({v} if {v}.__class__ is str else {f}({v})) or None",
    _integer: "int({v}) if {v} else {f}({v})",
    _strings: "list({v} or ())",
    _entity: '{{"Code": {v}.get("code"), "Name": {v}.get("name")}} if {v} else {f}({v})',
}
