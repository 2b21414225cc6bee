"""OData JSON property values → Kintone write values, per field type: the reverse of
``Property.to_odata``.

* DATETIME: an ISO 8601 timestamp *with* ``Z`` or an offset (``Edm.DateTimeOffset``), sent to
  Kintone in UTC. Kintone keeps minutes only: a value with seconds or fractions is cut to the
  minute and its property path is listed in ``Converted.truncated`` (the response header
  ``Kintone-Truncated``), so a client can tell that it will not read back what it wrote.
  TIME (``hh:mm[:ss]``) likewise.
* NUMBER: a JSON number (parsed as Decimal, every digit kept) or a numeric string
  (``IEEE754Compatible``); DATE: ``YYYY-MM-DD``.
* Users, organisations, groups: ``[{"Code": "alice"}]`` (``Name`` is ignored; a bare string is
  taken as the code). Checkboxes and multi-selects: option keys. Files: ``[{"FileKey": ...}]``
  with upload keys or the download keys of files already attached (to keep them).
* Subtables: rows as objects; a row with ``RowId`` updates that row (inner fields not sent keep
  their values), a row without one is new, existing rows not listed are deleted (Kintone's own
  rules), so a client keeps an untouched row by sending just its ``RowId``.
* ``null`` empties a field. Read-only properties (keys, system fields, CALC, lookup copies,
  auto-calculated text, status, assignees, categories) and unknown ones are a 400 naming them.
  ``@``-annotations in the body are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from ..kintone.ranges import RANGE, day_in_range, utc_in_range
from ..model import ComplexType, EntityType, Property, edm
from ..odata.errors import bad_request
from ..odata.numbers import FIRST_ID, json_int64

# Types Kintone computes or manages through other APIs: never in a record write.
_READ_ONLY_TYPES: Mapping[str, str] = {
    edm.ID: "the record id",
    edm.REVISION: "the revision (send it as If-Match)",
    "RECORD_NUMBER": "a record number",
    "CREATOR": "a system field",
    "CREATED_TIME": "a system field",
    "MODIFIER": "a system field",
    "UPDATED_TIME": "a system field",
    "CALC": "a calculated field",
    "STATUS": "the process status (use the action Kintone.UpdateStatus)",
    "STATUS_ASSIGNEE": "the assignees (use the action Kintone.SetAssignees)",
    "CATEGORY": "categories (Kintone's API cannot write them)",
}
_LISTS = frozenset({"CHECK_BOX", "MULTI_SELECT", "USER_SELECT", "ORGANIZATION_SELECT",
                    "GROUP_SELECT", "FILE", edm.SUBTABLE})


class _Invalid(Exception):
    """A value that does not fit its property; the message says why."""


@dataclass(frozen=True)
class Converted:
    """A record in Kintone's write format and the paths of values cut to the minute."""

    record: dict[str, dict[str, Any]]
    truncated: tuple[str, ...] = ()


def read_only_reason(prop: Property, lookup_copies: frozenset[str]) -> str | None:
    """Why a property cannot be written, or None when it can."""
    if prop.kintone_type is not None and prop.kintone_type in _READ_ONLY_TYPES:
        return _READ_ONLY_TYPES[prop.kintone_type]
    if prop.kintone_code in lookup_copies:
        return "filled in by a lookup"
    if prop.kintone_type == "SINGLE_LINE_TEXT" and prop.props.get("expression"):
        return "calculated automatically"
    return None


def all_properties(entity_type: EntityType) -> Iterator[Property]:
    """The properties of a type and of its subtables' rows."""
    for prop in entity_type.properties:
        yield prop
        if prop.row_type is not None:
            yield from prop.row_type.properties


def lookup_copies(entity_type: EntityType) -> frozenset[str]:
    """The codes of fields a lookup copies into (top level and inside subtables)."""
    return frozenset(
        mapping.get("field")
        for prop in all_properties(entity_type) if prop.lookup
        for mapping in (prop.props.get("lookup") or {}).get("fieldMappings") or ()
    )


def to_record(entity_type: EntityType, body: Mapping[str, Any], *,
              replace: bool = False) -> Converted:
    """The Kintone ``record`` for an entity body; with ``replace`` (PUT), every writable
    property the body leaves out is sent empty."""
    converter = _Converter(lookup_copies(entity_type))
    record = converter.fields(entity_type, body, "")
    if replace:
        for prop in entity_type.properties:
            code = prop.kintone_code
            if code is not None and code not in record and converter.writable(prop):
                record[code] = {"value": _empty(prop)}
    return Converted(record, tuple(converter.truncated))


def to_value(prop: Property, value: Any) -> Any:
    """One value for a key field (an upsert's ``updateKey``): text or a number."""
    try:
        return _SCALARS[_kind(prop)](value, [])
    except _Invalid as exc:
        raise bad_request(f"{prop.name}: {exc}", prop.name) from None


class _Converter:
    def __init__(self, copies: frozenset[str]) -> None:
        self.copies = copies
        self.truncated: list[str] = []

    def writable(self, prop: Property) -> bool:
        return prop.kintone_code is not None and read_only_reason(prop, self.copies) is None

    def fields(self, structure: EntityType | ComplexType, body: Mapping[str, Any],
               prefix: str) -> dict[str, dict[str, Any]]:
        if not isinstance(body, Mapping):
            raise bad_request(f"{prefix or 'The body'} must be a JSON object.", prefix or None)
        record: dict[str, dict[str, Any]] = {}
        for name, value in body.items():
            if "@" in name:
                continue  # annotations (@odata.etag, Name@odata.type ...) carry no data
            path = f"{prefix}{name}"
            if not structure.has_property(name):
                raise bad_request(f"{structure.name} has no property '{name}'.", path)
            prop = structure.property(name)
            if prop.kintone_type == edm.ROW_ID:
                continue  # the row id travels beside the cells (see _row)
            reason = read_only_reason(prop, self.copies)
            if reason is not None:
                raise bad_request(f"The property '{path}' is read-only: {reason}.", path)
            record[prop.kintone_code or name] = {"value": self.value(prop, value, path)}
        return record

    def value(self, prop: Property, value: Any, path: str) -> Any:
        if value is None:
            return _empty(prop)
        try:
            if prop.row_type is not None:
                return [self._row(prop.row_type, row, f"{path}[{i}]/")
                        for i, row in enumerate(_list(value))]
            kind = _kind(prop)
            if kind in _LIST_CONVERTERS:
                return [_LIST_CONVERTERS[kind](item) for item in _list(value)]
            cut: list[bool] = []
            converted = _SCALARS[kind](value, cut)
        except _Invalid as exc:
            raise bad_request(f"{path}: {exc}", path) from None
        if cut:
            self.truncated.append(path)
        return converted

    def _row(self, row_type: ComplexType, row: Any, prefix: str) -> dict[str, Any]:
        cells = self.fields(row_type, row, prefix)
        row_id = row.get("RowId")
        if row_id is None:
            return {"value": cells}
        if (number := json_int64(row_id)) is None or number < FIRST_ID:
            target = f"{prefix}RowId"
            raise bad_request(f"{target} must be an integer, not {row_id!r}.", target)
        return {"id": str(number), "value": cells}


def _kind(prop: Property) -> str:
    """The Kintone type of a field (every property a write converts has one)."""
    return prop.kintone_type or ""


def _empty(prop: Property) -> Any:
    return [] if prop.kintone_type in _LISTS else ""


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid("expected a JSON array")
    return value


def _text(value: Any, _cut: list[bool]) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, not {value!r}")
    return value


def _number(value: Any, _cut: list[bool]) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise _Invalid(f"expected a number, not {value!r}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise _Invalid(f"'{value}' is not a number") from None
    if not number.is_finite():
        raise _Invalid(f"{value} is not a finite number")
    return format(number, "f")


def _parsed(parse: Callable[[str], Any], value: Any, what: str) -> Any:
    if not isinstance(value, str):
        raise _Invalid(f"expected {what} as a string, not {value!r}")
    try:
        return parse(value)
    except ValueError:
        raise _Invalid(f"'{value}' is not {what}") from None


def _date(value: Any, _cut: list[bool]) -> str:
    day: date = _parsed(date.fromisoformat, value, "a date (YYYY-MM-DD)")
    if not day_in_range(day):
        raise _Invalid(f"{value} is outside the dates Kintone can keep ({RANGE})")
    return day.isoformat()


def _time(value: Any, cut: list[bool]) -> str:
    parsed: time = _parsed(time.fromisoformat, value, "a time of day (hh:mm[:ss])")
    if parsed.tzinfo is not None:
        raise _Invalid("a time of day has no time zone")
    if parsed.second or parsed.microsecond:
        cut.append(True)
    return f"{parsed:%H:%M}"


def _datetime(value: Any, cut: list[bool]) -> str:
    what = "a timestamp with a time zone (e.g. 2024-05-01T09:30:00+09:00)"
    parsed: datetime = _parsed(datetime.fromisoformat, value, what)
    if parsed.tzinfo is None or "T" not in value:
        raise _Invalid(f"'{value}' is not {what}")
    moment = utc_in_range(parsed)
    if moment is None:
        raise _Invalid(f"{value} is outside the dates Kintone can keep ({RANGE})")
    if parsed.second or parsed.microsecond:
        cut.append(True)
    return f"{moment:%Y-%m-%dT%H:%M}:00Z"


def _option(value: Any) -> str:
    return _text(value, [])


def _code(value: Any) -> str:
    code = value.get("Code") if isinstance(value, Mapping) else value
    if not isinstance(code, str) or not code:
        raise _Invalid(f'expected a login name or {{"Code": "..."}}, not {value!r}')
    return code


def _entity(value: Any) -> dict[str, str]:
    return {"code": _code(value)}


def entity_code(value: Any, target: str) -> str:
    """The code of a user (organisation, group) given as ``{"Code": ...}`` or a bare string."""
    try:
        return _code(value)
    except _Invalid as exc:
        raise bad_request(f"{target}: {exc}", target) from None


def _file(value: Any) -> dict[str, str]:
    key = value.get("FileKey") if isinstance(value, Mapping) else None
    if not isinstance(key, str) or not key:
        raise _Invalid(f'expected {{"FileKey": "..."}}, not {value!r}')
    return {"fileKey": key}


_SCALARS: Mapping[str, Callable[[Any, list[bool]], Any]] = {
    **dict.fromkeys(("SINGLE_LINE_TEXT", "MULTI_LINE_TEXT", "RICH_TEXT", "LINK", "DROP_DOWN",
                     "RADIO_BUTTON"), _text),
    "NUMBER": _number,
    "DATE": _date,
    "TIME": _time,
    "DATETIME": _datetime,
}
_LIST_CONVERTERS: Mapping[str, Callable[[Any], Any]] = {
    "CHECK_BOX": _option,
    "MULTI_SELECT": _option,
    "USER_SELECT": _entity,
    "ORGANIZATION_SELECT": _entity,
    "GROUP_SELECT": _entity,
    "FILE": _file,
}

