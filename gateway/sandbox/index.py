"""Index rows of a record: what the query compiler searches (see the ``store`` docstring).

``record_values`` gets one row per value of every queryable field: scalars exactly one row
(``s`` = the value as a string, ``''`` when empty; ``n`` = the number for NUMBER, numeric CALC and
RECORD_NUMBER), multi-value fields one row per value (option keys, entity codes, file names) and
none when empty. Fields inside a subtable use the row id as ``row``; each subtable row also gets a
marker row (``code`` = the subtable code, ``s``/``n`` NULL). RICH_TEXT is indexed as its visible
text, so ``is empty`` ignores markup. ``record_words`` holds the ``like`` tokens of text fields and
file names.

Bulk loads call ``index_rows`` once per record, so the per-form work (which field is indexed how)
is planned once and cached per ``Form`` object.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .fields import FieldDef, Form
from .text_search import strip_html, tokenize

ValueRow = tuple[int, int, str, int, str | None, float | None]
WordRow = tuple[int, int, str, int, str]
# A field's values as (s, n) pairs.
Values = Callable[[Any], list[tuple[str, float | None]]]

_WORD_TYPES = frozenset({"SINGLE_LINE_TEXT", "LINK", "MULTI_LINE_TEXT"})
_TEXT_SCALARS = frozenset(
    {
        "SINGLE_LINE_TEXT", "LINK", "MULTI_LINE_TEXT", "RADIO_BUTTON", "DROP_DOWN", "DATE", "TIME",
        "DATETIME", "CREATED_TIME", "UPDATED_TIME", "STATUS", "CALC",
    }
)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _as_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _text_values(value: Any) -> list[tuple[str, float | None]]:
    return [(_as_text(value), None)]


def _number_values(value: Any) -> list[tuple[str, float | None]]:
    text = _as_text(value).strip()
    return [(text, _as_number(text) if text else None)]


def _rich_values(value: Any) -> list[tuple[str, float | None]]:
    return [(strip_html(_as_text(value)).strip(), None)]


def _entity_values(value: Any) -> list[tuple[str, float | None]]:
    return [((value.get("code") or "") if isinstance(value, dict) else "", None)]


def _option_values(value: Any) -> list[tuple[str, float | None]]:
    return [(_as_text(v), None) for v in value or () if v not in (None, "")]


def _entities_values(value: Any) -> list[tuple[str, float | None]]:
    return [(e["code"], None) for e in value or () if isinstance(e, dict) and e.get("code")]


def _file_values(value: Any) -> list[tuple[str, float | None]]:
    return [(f["name"], None) for f in value or () if isinstance(f, dict) and f.get("name")]


def _text_words(value: Any) -> set[str]:
    return set(tokenize(_as_text(value)))


def _rich_words(value: Any) -> set[str]:
    return set(tokenize(strip_html(_as_text(value))))


def _file_words(value: Any) -> set[str]:
    return {t for f in value or () if isinstance(f, dict) for t in tokenize(f.get("name") or "")}


@dataclass(frozen=True)
class _FieldPlan:
    code: str
    values: Values
    words: Callable[[Any], set[str]] | None = None


@dataclass(frozen=True)
class _TablePlan:
    code: str
    fields: tuple[_FieldPlan, ...]


def _field_plan(fd: FieldDef) -> _FieldPlan | None:
    ftype = fd.type
    if ftype == "NUMBER" or (ftype == "CALC" and fd.numeric):
        return _FieldPlan(fd.code, _number_values)
    if ftype == "RICH_TEXT":
        return _FieldPlan(fd.code, _rich_values, _rich_words)
    if ftype in _TEXT_SCALARS:
        return _FieldPlan(fd.code, _text_values, _text_words if ftype in _WORD_TYPES else None)
    if ftype in ("CREATOR", "MODIFIER"):
        return _FieldPlan(fd.code, _entity_values)
    if ftype in ("CHECK_BOX", "MULTI_SELECT", "CATEGORY"):
        return _FieldPlan(fd.code, _option_values)
    if ftype in ("USER_SELECT", "ORGANIZATION_SELECT", "GROUP_SELECT", "STATUS_ASSIGNEE"):
        return _FieldPlan(fd.code, _entities_values)
    if ftype == "FILE":
        return _FieldPlan(fd.code, _file_values, _file_words)
    return None


@dataclass(frozen=True)
class _Plan:
    record_number: str | None
    fields: tuple[_FieldPlan, ...]
    tables: tuple[_TablePlan, ...]


def _make_plan(form: Form) -> _Plan:
    record_number = None
    fields: list[_FieldPlan] = []
    tables: list[_TablePlan] = []
    for fd in form.data_fields():
        if fd.type == "RECORD_NUMBER":
            record_number = fd.code
        elif fd.type == "SUBTABLE":
            inner = (_field_plan(f) for f in form.inner(fd.code))
            tables.append(_TablePlan(fd.code, tuple(p for p in inner if p)))
        elif plan := _field_plan(fd):
            fields.append(plan)
    return _Plan(record_number, tuple(fields), tuple(tables))


_plans: weakref.WeakKeyDictionary[Form, _Plan] = weakref.WeakKeyDictionary()


def _plan_of(form: Form) -> _Plan:
    plan = _plans.get(form)
    if plan is None:
        plan = _plans[form] = _make_plan(form)
    return plan


def _add_field(
    plan: _FieldPlan, value: Any, key: tuple[int, int], row: int,
    values: list[ValueRow], words: list[WordRow],
) -> None:
    app, rec = key
    code = plan.code
    values.extend((app, rec, code, row, s, n) for s, n in plan.values(value))
    if plan.words is not None:
        words.extend((app, rec, code, row, token) for token in plan.words(value))


def index_rows(
    app: int, rec: int, form: Form, data: dict
) -> tuple[list[ValueRow], list[WordRow]]:
    """The ``record_values`` and ``record_words`` rows of one record."""
    plan = _plan_of(form)
    key = (app, rec)
    values: list[ValueRow] = []
    words: list[WordRow] = []
    if plan.record_number is not None:
        values.append((app, rec, plan.record_number, 0, str(rec), float(rec)))
    for field in plan.fields:
        _add_field(field, data.get(field.code), key, 0, values, words)
    for table in plan.tables:
        for table_row in data.get(table.code) or ():
            row = int(table_row["id"])
            cells = table_row.get("value") or {}
            values.append((app, rec, table.code, row, None, None))
            for field in table.fields:
                _add_field(field, cells.get(field.code), key, row, values, words)
    return values, words


def unindex(conn: sqlite3.Connection, app: int, rec: int) -> None:
    conn.execute("DELETE FROM record_values WHERE app = ? AND rec = ?", (app, rec))
    conn.execute("DELETE FROM record_words WHERE app = ? AND rec = ?", (app, rec))


def reindex(conn: sqlite3.Connection, app: int, rec: int, form: Form, data: dict) -> None:
    """Replace the index rows of one record (call inside the write's transaction)."""
    unindex(conn, app, rec)
    values, words = index_rows(app, rec, form, data)
    conn.executemany(
        "INSERT INTO record_values (app, rec, code, row, s, n) VALUES (?, ?, ?, ?, ?, ?)", values
    )
    if words:
        conn.executemany(
            "INSERT INTO record_words (app, rec, code, row, token) VALUES (?, ?, ?, ?, ?)", words
        )
