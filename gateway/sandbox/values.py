"""Field values: write normalisation per field type, empty and default values, read shaping.

Stored record data (``records.data``) holds each field's value in Kintone's read format without
the ``{type, value}`` wrapper. This module turns one written value into that format
(``write_value``), checks a stored value against the field's constraints (``check_value``), and
wraps stored data back into the typed read format (``typed_record``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .clock import iso_minute
from .errors import KintoneError, Problems, message
from .fields import DATA_TYPES, FEATURE_TYPES, FieldDef
from .files import attach
from .temporal import parse_date, parse_datetime, parse_time

if TYPE_CHECKING:
    from .apps import App
    from .context import Ctx

NULL_EMPTY_TYPES = frozenset({"DATE", "TIME", "DROP_DOWN"})
LIST_EMPTY_TYPES = frozenset(
    {"CHECK_BOX", "MULTI_SELECT", "FILE", "CATEGORY", "SUBTABLE", "STATUS_ASSIGNEE",
     "USER_SELECT", "ORGANIZATION_SELECT", "GROUP_SELECT"}
)
SELECT_ENTITY_TYPES = {"USER_SELECT": "user", "ORGANIZATION_SELECT": "organization",
                       "GROUP_SELECT": "group"}
# Types whose required/option errors are keyed ``.values`` / ``.values.value`` (section 3.2).
_VALUES_SUFFIX = frozenset({"CHECK_BOX", "MULTI_SELECT", "FILE"})
_ENTITY_SUFFIX = frozenset(SELECT_ENTITY_TYPES)
# RADIO_BUTTON always has a selection in the UI, so Kintone does not enforce `required` on it.
_REQUIRED_EXEMPT = frozenset({"CALC", "RADIO_BUTTON"})


def empty_value(ftype: str) -> Any:
    if ftype in NULL_EMPTY_TYPES:
        return None
    if ftype in LIST_EMPTY_TYPES:
        return []
    return ""


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def is_computed(fd: FieldDef) -> bool:
    """CALC fields and auto-calculated text: the server computes them, writes are ignored."""
    return fd.type == "CALC" or (fd.type == "SINGLE_LINE_TEXT" and bool(fd.props.get("expression")))


# ---------------------------------------------------------------------------------------------
# Numbers

_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ROUNDING = {"HALF_EVEN": ROUND_HALF_EVEN, "UP": ROUND_UP, "DOWN": ROUND_DOWN}


def parse_number(text: str) -> Decimal | None:
    """A decimal from Kintone number input (surrounding blanks allowed, no separators)."""
    text = text.strip()
    if not _NUMBER_RE.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def format_number(number: Decimal) -> str:
    """Kintone's canonical number string: no exponent, no trailing zeros, no ``-0``."""
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


@dataclass(frozen=True)
class Precision:
    """The app's ``numberPrecision``: total digits, decimal places and rounding mode."""

    digits: int = 16
    decimal_places: int = 4
    rounding: str = ROUND_HALF_EVEN

    @classmethod
    def of(cls, app: App) -> Precision:
        setting = app.app_settings.get("numberPrecision") or {}
        return cls(
            int(setting.get("digits") or 16),
            int(setting.get("decimalPlaces") or 4),
            _ROUNDING.get(setting.get("roundingMode") or "HALF_EVEN", ROUND_HALF_EVEN),
        )

    def apply(self, number: Decimal) -> Decimal | None:
        """``number`` rounded to the allowed decimals, or None when it has too many digits."""
        if number != 0 and number.adjusted() + 1 > self.digits - self.decimal_places:
            return None
        rounded = number.quantize(Decimal(1).scaleb(-self.decimal_places), self.rounding)
        if rounded != 0 and rounded.adjusted() + 1 > self.digits - self.decimal_places:
            return None
        return rounded


# ---------------------------------------------------------------------------------------------
# Dates and times

def normalize_date(text: str) -> str | None:
    """A written DATE as stored: blanks around it and partial dates allowed."""
    day = parse_date(text.strip(), partial=True)
    return day.isoformat() if day else None


def normalize_time(text: str) -> str | None:
    return parse_time(text.strip())


def normalize_datetime(text: str) -> str | None:
    moment = parse_datetime(text.strip())
    return iso_minute(moment) if moment else None


# ---------------------------------------------------------------------------------------------
# Writing one value

@dataclass(frozen=True)
class ErrorKey:
    """The error-key stem of one field: ``record.title`` or ``record.items.value[0].value.qty``.

    ``bracket`` is the ``record[title]`` form real Kintone uses for unparseable numbers.
    """

    path: str
    bracket: str

    @classmethod
    def top(cls, prefix: str, code: str) -> ErrorKey:
        return cls(f"{prefix}.{code}", f"{prefix}[{code}]")

    @classmethod
    def inner(cls, prefix: str, table: str, row: int, code: str) -> ErrorKey:
        path = f"{prefix}.{table}.value[{row}].value.{code}"
        return cls(path, path)

    @property
    def value(self) -> str:
        return f"{self.path}.value"

    def for_type(self, ftype: str) -> str:
        """The key of `required` errors, which depends on the value's shape."""
        if ftype in _VALUES_SUFFIX:
            return f"{self.path}.values"
        if ftype in _ENTITY_SUFFIX:
            return f"{self.path}.values.value"
        return self.value

    def element(self, index: int) -> str:
        return f"{self.path}.values[{index}].value"


@dataclass(frozen=True)
class WriteTarget:
    """Everything needed to write one field's value."""

    ctx: Ctx
    fd: FieldDef
    key: ErrorKey
    problems: Problems
    precision: Precision
    in_table: bool = False


def bad_json() -> KintoneError:
    return KintoneError("CB_IJ01")


def _scalar_text(raw: Any) -> str | None:
    """A JSON scalar as text (JSON binding coerces numbers and booleans); None when absent."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return str(raw)
    if isinstance(raw, str):
        return raw
    raise bad_json()


def _list_of(raw: Any, item_type: type) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, item_type) for item in raw):
        raise bad_json()
    return raw


def _write_text(t: WriteTarget, raw: Any) -> str:
    return _scalar_text(raw) or ""


def _write_number(t: WriteTarget, raw: Any) -> str:
    text = _scalar_text(raw)
    if text is None or text.strip() == "":
        return ""
    number = parse_number(text)
    if number is None:
        # Real Kintone: silently blank inside subtables, two errors at the top level.
        if not t.in_table:
            t.problems.add(f"{t.key.bracket}.value", "not_number")
            t.problems.add(t.key.value, "required")
        return ""
    rounded = t.precision.apply(number)
    if rounded is None:
        t.problems.add(t.key.value, "precision")
        return ""
    return format_number(rounded)


def _write_drop_down(t: WriteTarget, raw: Any) -> str | None:
    return _scalar_text(raw) or None


def _write_choices(t: WriteTarget, raw: Any) -> list[str]:
    return list(_list_of(raw, str))


def _write_parsed(parser: Callable[[str], Any], msg_key: str, empty: Any) -> Callable:
    def write(t: WriteTarget, raw: Any) -> Any:
        text = _scalar_text(raw)
        if text is None or text.strip() == "":
            return empty
        value = parser(text)
        if value is None:
            t.problems.add(t.key.value, msg_key)
            return empty
        return value

    return write


def _entity_codes(raw: Any) -> list[str]:
    codes = []
    for item in _list_of(raw, dict):
        code = item.get("code")
        if not isinstance(code, str):
            raise bad_json()
        codes.append(code)
    return codes


_INVALID_ENTITY_MSG = {
    "user": "invalid_user", "organization": "invalid_org", "group": "invalid_group",
}


def resolve_entity(ctx: Ctx, kind: str, code: str) -> dict | None:
    """``{code, name}`` of a directory user/organization/group, or None when unknown."""
    found = getattr(ctx.sandbox.directory, kind)(code)
    if found is None:
        return None
    return {"code": code, "name": found.get("name") or code}


def _write_entities(t: WriteTarget, raw: Any) -> list[dict]:
    kind = SELECT_ENTITY_TYPES[t.fd.type]
    out = []
    for code in _entity_codes(raw):
        entity = resolve_entity(t.ctx, kind, code)
        if entity is None:
            t.problems.add(t.key.for_type(t.fd.type), _INVALID_ENTITY_MSG[kind], code)
        elif entity not in out:
            out.append(entity)
    return out


def _write_files(t: WriteTarget, raw: Any) -> list[dict]:
    out = []
    for item in _list_of(raw, dict):
        key = item.get("fileKey")
        if not isinstance(key, str):
            raise bad_json()
        stored = attach(t.ctx.db.conn, key, t.ctx.now())
        if stored is None:
            t.problems.add(t.key.for_type("FILE"), "invalid_file", key)
        else:
            out.append(stored)
    return out


_WRITERS: dict[str, Callable[[WriteTarget, Any], Any]] = {
    "SINGLE_LINE_TEXT": _write_text,
    "MULTI_LINE_TEXT": _write_text,
    "RICH_TEXT": _write_text,
    "LINK": _write_text,
    "NUMBER": _write_number,
    "RADIO_BUTTON": _write_text,
    "DROP_DOWN": _write_drop_down,
    "CHECK_BOX": _write_choices,
    "MULTI_SELECT": _write_choices,
    "DATE": _write_parsed(normalize_date, "invalid_date", None),
    "TIME": _write_parsed(normalize_time, "invalid_time", None),
    "DATETIME": _write_parsed(normalize_datetime, "invalid_datetime", ""),
    "CREATED_TIME": _write_parsed(normalize_datetime, "invalid_datetime", ""),
    "UPDATED_TIME": _write_parsed(normalize_datetime, "invalid_datetime", ""),
    "USER_SELECT": _write_entities,
    "ORGANIZATION_SELECT": _write_entities,
    "GROUP_SELECT": _write_entities,
    "FILE": _write_files,
}


def write_value(t: WriteTarget, raw: Any) -> Any:
    """The stored form of ``raw`` (the ``value`` of one written field) for ``t.fd``.

    Format problems go to ``t.problems``; JSON of the wrong shape raises ``CB_IJ01``.
    """
    return _WRITERS[t.fd.type](t, raw)


def write_user(t: WriteTarget, raw: Any) -> dict | None:
    """CREATOR / MODIFIER written on add (data migration): ``{"code": login}``."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("code"), str):
        raise bad_json()
    entity = resolve_entity(t.ctx, "user", raw["code"])
    if entity is None:
        t.problems.add(t.key.value, "invalid_user", raw["code"])
    return entity


# ---------------------------------------------------------------------------------------------
# Constraints of a stored value (run on the final, merged record)

_WEB_URL_RE = re.compile(r"(?:https?|ftp)://[^\s/?#]+[^\s]*", re.IGNORECASE)


def check_value(fd: FieldDef, value: Any, key: ErrorKey, problems: Problems) -> None:
    """Required, length, range and option constraints of ``fd`` on a stored value."""
    if fd.props.get("required") and is_empty(value) and fd.type not in _REQUIRED_EXEMPT:
        _add_required(problems, key.for_type(fd.type))
    if fd.type in ("SINGLE_LINE_TEXT", "LINK", "MULTI_LINE_TEXT"):
        _check_length(fd, value or "", key, problems)
    web_link = fd.type == "LINK" and fd.props.get("protocol") == "WEB"
    if web_link and value and not _WEB_URL_RE.fullmatch(value):
        problems.add(key.value, "invalid_url")
    number = parse_number(value) if fd.type == "NUMBER" and value else None
    if number is not None:
        _check_range(fd, number, key, problems)
    if fd.type in ("RADIO_BUTTON", "DROP_DOWN") and value and value not in fd.options:
        problems.add(key.value, "not_option", value)
    if fd.type in ("CHECK_BOX", "MULTI_SELECT"):
        for index, item in enumerate(value or []):
            if item and item not in fd.options:
                problems.add(key.element(index), "not_option", item)


def _add_required(problems: Problems, key: str) -> None:
    # An unparseable number has already reported "Required." under the same key.
    if message("required", problems.lang) not in problems.errors.get(key, []):
        problems.add(key, "required")


def _setting_int(fd: FieldDef, name: str) -> int | None:
    setting = fd.props.get(name)
    return int(setting) if setting not in (None, "") else None


def _check_length(fd: FieldDef, text: str, key: ErrorKey, problems: Problems) -> None:
    # Kintone quotes the first length outside the allowed range (maxLength+1 / minLength-1).
    max_length, min_length = _setting_int(fd, "maxLength"), _setting_int(fd, "minLength")
    if max_length is not None and len(text) > max_length:
        problems.add(key.value, "max_length", max_length + 1)
    if min_length is not None and len(text) < min_length:
        problems.add(key.value, "min_length", min_length - 1)


def _check_range(fd: FieldDef, number: Decimal, key: ErrorKey, problems: Problems) -> None:
    max_value, min_value = fd.props.get("maxValue"), fd.props.get("minValue")
    if max_value not in (None, "") and number > Decimal(max_value):
        problems.add(key.value, "max_value", max_value)
    if min_value not in (None, "") and number < Decimal(min_value):
        problems.add(key.value, "min_value", min_value)


# ---------------------------------------------------------------------------------------------
# Default values (applied on add, only for absent keys)

def default_value(ctx: Ctx, fd: FieldDef, precision: Precision) -> Any:
    """The stored value a new record gets for ``fd`` when the write does not mention it."""
    handler = _DEFAULTS.get(fd.type)
    if handler is not None:
        return handler(ctx, fd, precision)
    return empty_value(fd.type)


def _default_text(ctx: Ctx, fd: FieldDef, precision: Precision) -> str:
    return str(fd.props.get("defaultValue") or "")


def _default_number(ctx: Ctx, fd: FieldDef, precision: Precision) -> str:
    number = parse_number(str(fd.props.get("defaultValue") or ""))
    rounded = precision.apply(number) if number is not None else None
    return format_number(rounded) if rounded is not None else ""


def _default_choices(ctx: Ctx, fd: FieldDef, precision: Precision) -> list[str]:
    return list(fd.props.get("defaultValue") or [])


def _default_drop_down(ctx: Ctx, fd: FieldDef, precision: Precision) -> str | None:
    return fd.props.get("defaultValue") or None


def _default_date(ctx: Ctx, fd: FieldDef, precision: Precision) -> str | None:
    if fd.props.get("defaultNowValue"):
        return ctx.now().astimezone(ctx.tz).date().isoformat()
    return normalize_date(fd.props.get("defaultValue") or "")


def _default_time(ctx: Ctx, fd: FieldDef, precision: Precision) -> str | None:
    if fd.props.get("defaultNowValue"):
        return ctx.now().astimezone(ctx.tz).strftime("%H:%M")
    return normalize_time(fd.props.get("defaultValue") or "")


def _default_datetime(ctx: Ctx, fd: FieldDef, precision: Precision) -> str:
    if fd.props.get("defaultNowValue"):
        return iso_minute(ctx.now())
    return normalize_datetime(fd.props.get("defaultValue") or "") or ""


def _function_default(ctx: Ctx, function: str) -> tuple[str, str | None]:
    """``(kind, code)`` a default-value function stands for; code None when not applicable."""
    if function == "LOGINUSER()":
        return "user", ctx.caller.login
    if function == "PRIMARY_ORGANIZATION()":
        return "organization", ctx.caller.primary_organization
    return "user", None


def _default_entities(ctx: Ctx, fd: FieldDef, precision: Precision) -> list[dict]:
    # Entries of another kind (an organization in a user field) and unknown codes are dropped.
    kind = SELECT_ENTITY_TYPES[fd.type]
    out = []
    for entry in fd.props.get("defaultValue") or []:
        entry_kind, code = entry.get("type", "").lower(), entry.get("code")
        if entry_kind == "function":
            entry_kind, code = _function_default(ctx, code or "")
        entity = resolve_entity(ctx, kind, code) if entry_kind == kind and code else None
        if entity is not None and entity not in out:
            out.append(entity)
    return out


_DEFAULTS: dict[str, Callable[[Ctx, FieldDef, Precision], Any]] = {
    "SINGLE_LINE_TEXT": _default_text,
    "MULTI_LINE_TEXT": _default_text,
    "RICH_TEXT": _default_text,
    "LINK": _default_text,
    "RADIO_BUTTON": _default_text,
    "NUMBER": _default_number,
    "CHECK_BOX": _default_choices,
    "MULTI_SELECT": _default_choices,
    "DROP_DOWN": _default_drop_down,
    "DATE": _default_date,
    "TIME": _default_time,
    "DATETIME": _default_datetime,
    "USER_SELECT": _default_entities,
    "ORGANIZATION_SELECT": _default_entities,
    "GROUP_SELECT": _default_entities,
}


# ---------------------------------------------------------------------------------------------
# Read shaping

def feature_on(app: App, fd: FieldDef) -> bool:
    """Whether a STATUS / STATUS_ASSIGNEE / CATEGORY field is part of the app's records."""
    if fd.type in ("STATUS", "STATUS_ASSIGNEE") and app.process.get("enable"):
        return True
    return bool(fd.props.get("enabled"))


def record_fields(app: App) -> list[FieldDef]:
    """Top-level fields the app's records hold, in form order."""
    return [
        fd for fd in app.form.top_level()
        if fd.type in DATA_TYPES and (fd.type not in FEATURE_TYPES or feature_on(app, fd))
    ]


def record_number(app: App, rec_id: int) -> str:
    return f"{app.code}-{rec_id}" if app.code else str(rec_id)


def typed_record(
    app: App, rec_id: int, revision: int, data: dict, fields: list[str] | None = None
) -> dict:
    """A stored record in read format ``{code: {"type", "value"}}`` with ``$id``/``$revision``.

    With ``fields`` only the listed codes are returned (unknown codes are ignored); an inner
    subtable code returns its subtable with only the listed columns.
    """
    return RecordShape.of(app, fields).typed(rec_id, revision, data)


@dataclass(frozen=True)
class RecordShape:
    """What a read returns of each record of ``app``: worked out once for a page of them
    (shaping is most of what a read of 500 records costs the sandbox)."""

    app: App
    plain: list[tuple[str, str]]  # (code, type) of each field returned as stored
    subtables: list[tuple[str, list[FieldDef]]]  # with the columns returned
    numbers: list[str]  # RECORD_NUMBER fields
    ids: bool  # $id and $revision (each listed on its own)
    revisions: bool

    @classmethod
    def of(cls, app: App, fields: list[str] | None = None) -> RecordShape:
        wanted = set(fields) if fields is not None else None
        shape = [(fd, columns) for fd in record_fields(app)
                 if (columns := _wanted_columns(app, fd, wanted)) is not None]
        special = ("RECORD_NUMBER", "SUBTABLE")
        return cls(app, [(fd.code, fd.type) for fd, _ in shape if fd.type not in special],
                   [(fd.code, columns) for fd, columns in shape if fd.type == "SUBTABLE"],
                   [fd.code for fd, _ in shape if fd.type == "RECORD_NUMBER"],
                   wanted is None or "$id" in wanted, wanted is None or "$revision" in wanted)

    def typed(self, rec_id: int, revision: int, data: dict) -> dict:
        out = {code: {"type": kind, "value": data[code] if code in data else empty_value(kind)}
               for code, kind in self.plain}
        for code, columns in self.subtables:
            out[code] = {"type": "SUBTABLE", "value": _typed_rows(data.get(code) or [], columns)}
        for code in self.numbers:
            out[code] = {"type": "RECORD_NUMBER", "value": record_number(self.app, rec_id)}
        if self.ids:
            out["$id"] = {"type": "__ID__", "value": str(rec_id)}
        if self.revisions:
            out["$revision"] = {"type": "__REVISION__", "value": str(revision)}
        return out


def _wanted_columns(app: App, fd: FieldDef, wanted: set[str] | None) -> list[FieldDef] | None:
    """Which of ``fd`` to return: None = skip the field; for subtables the inner columns."""
    columns = app.form.inner(fd.code) if fd.type == "SUBTABLE" else []
    if wanted is None or fd.code in wanted:
        return columns
    listed = [inner for inner in columns if inner.code in wanted]
    return listed or None


def _typed_rows(rows: list[dict], columns: list[FieldDef]) -> list[dict]:
    return [
        {
            "id": str(row["id"]),
            "value": {
                fd.code: {"type": fd.type, "value": row["value"].get(fd.code, empty_value(fd.type))}
                for fd in columns
            },
        }
        for row in rows
    ]
