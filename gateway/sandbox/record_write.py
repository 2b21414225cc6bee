"""Record writes: the ``record`` of POST/PUT record(s).json turned into stored record data.

Both entry points collect validation problems (reported together as one CB_VA01 by the caller)
and raise ``KintoneError`` for request-level errors (GAIA_UN10, GA_UO01, CB_IJ01, GAIA_BF02,
GAIA_LO04). The order of work mirrors Kintone: write the sent values, resolve lookups, compute
CALC fields, then validate the resulting record as a whole.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .apps import App, load_app
from .auth import has_right
from .calc import compute_fields
from .clock import iso_minute
from .errors import KintoneError, Problems
from .fields import LAYOUT_ONLY_TYPES, UN10_NAMES, FieldDef, Form
from .process import initial_state
from .values import (
    ErrorKey,
    Precision,
    WriteTarget,
    bad_json,
    check_value,
    default_value,
    empty_value,
    format_number,
    is_computed,
    is_empty,
    parse_number,
    record_fields,
    record_number,
    write_user,
    write_value,
)

if TYPE_CHECKING:
    from .context import Ctx

_ADMIN_ONLY_TYPES = frozenset({"CREATOR", "CREATED_TIME", "MODIFIER", "UPDATED_TIME"})
# Read-only on add: silently ignored by POST, GAIA_UN10 / GA_UO01 on PUT.
_SERVER_TYPES = frozenset({"RECORD_NUMBER", "STATUS", "STATUS_ASSIGNEE", "CATEGORY"})
_UNIQUE_TYPES = frozenset({"SINGLE_LINE_TEXT", "NUMBER", "LINK", "DATE", "DATETIME"})
_NUMERIC_INDEX_TYPES = frozenset({"NUMBER", "CALC", "RECORD_NUMBER"})


def new_record_data(ctx: Ctx, app: App, record: dict | None, prefix: str,
                    problems: Problems) -> dict:
    """Stored data of a record added with ``record`` (defaults for absent fields)."""
    writer = _Writer(ctx, app, prefix, problems)
    entries = writer.entries(record, put=False)
    data = {fd.code: writer.initial(fd, entries) for fd in record_fields(app)
            if fd.type != "RECORD_NUMBER"}
    for fd in app.form.top_level():
        if fd.lookup and fd.code in data:
            writer.lookup(fd, data, data[fd.code])
    _start_process(ctx, app, data)
    writer.finish(data, None)
    return data


def _start_process(ctx: Ctx, app: App, data: dict) -> None:
    """A new record enters the first status, assigned as that status says (needs the creator)."""
    status, assignee = app.form.of_type("STATUS"), app.form.of_type("STATUS_ASSIGNEE")
    if status is None or status.code not in data:
        return
    data[status.code], assignees = initial_state(app, data, ctx)
    if assignee is not None and assignee.code in data:
        data[assignee.code] = assignees


def updated_record_data(ctx: Ctx, app: App, rec_id: int, existing: dict, record: dict | None,
                        prefix: str, problems: Problems) -> dict:
    """Stored data of record ``rec_id`` after a PUT of ``record`` (merge semantics)."""
    if record is None:
        return copy.deepcopy(existing)  # Kintone: "the record is not updated"
    writer = _Writer(ctx, app, prefix, problems)
    entries = writer.entries(record, put=True)
    data = copy.deepcopy(existing)
    for code, raw in entries.items():
        fd = app.form.get(code)
        if fd.type == "SUBTABLE":
            data[code] = writer.merged_rows(fd, data.get(code) or [], raw)
        else:
            data[code] = write_value(writer.target(fd, ErrorKey.top(prefix, code)), raw)
            if fd.lookup:
                writer.lookup(fd, data, data[code])
    for fd in record_fields(app):
        if fd.type == "MODIFIER":
            data[fd.code] = ctx.caller.entity
        elif fd.type == "UPDATED_TIME":
            data[fd.code] = iso_minute(ctx.now())
    writer.finish(data, rec_id)
    return data


@dataclass
class _Writer:
    ctx: Ctx
    app: App
    prefix: str
    problems: Problems

    def __post_init__(self) -> None:
        self.form: Form = self.app.form
        self.precision = Precision.of(self.app)
        self.ignored = self.form.lookup_targets()

    def target(self, fd: FieldDef, key: ErrorKey, *, in_table: bool = False) -> WriteTarget:
        return WriteTarget(self.ctx, fd, key, self.problems, self.precision, in_table)

    # -- which sent fields count

    def entries(self, record: Any, *, put: bool) -> dict[str, Any]:
        """``code → raw value`` of the writable top-level fields in ``record``."""
        if record is None:
            return {}
        if not isinstance(record, dict):
            raise bad_json()
        out = {}
        for code, entry in record.items():
            fd = self.form.get(code)
            if fd is None or fd.table is not None:
                continue
            if not put and fd.type in _ADMIN_ONLY_TYPES and _blank(_raw(entry)):
                continue  # a blank cell of a CSV import: the caller and now, as if not sent
            if self._writable(fd, put=put):
                out[code] = _raw(entry)
        return out

    def _writable(self, fd: FieldDef, *, put: bool) -> bool:
        """Whether a sent field is written; raises for fields that may not be sent."""
        if fd.type == "REFERENCE_TABLE":
            raise bad_json()
        if fd.type == "GROUP":
            raise KintoneError("GAIA_UN10", (UN10_NAMES["GROUP"],))
        if put and fd.type == "CATEGORY":
            raise KintoneError("GA_UO01")
        if put and fd.type in _SERVER_TYPES | _ADMIN_ONLY_TYPES:
            raise KintoneError("GAIA_UN10", (UN10_NAMES[fd.type],))
        if fd.type in _ADMIN_ONLY_TYPES and not self._app_admin():
            raise KintoneError("GAIA_BF02")
        return not (fd.type in _SERVER_TYPES or fd.type in LAYOUT_ONLY_TYPES
                    or self.server_filled(fd))

    def _app_admin(self) -> bool:
        user = self.ctx.caller.user
        if user and user.get("admin"):
            return True
        grant = self.ctx.caller.tokens.get(self.app.id)
        return bool(grant and "manage" in grant.rights)

    # -- values of a new record

    def initial(self, fd: FieldDef, entries: dict[str, Any]) -> Any:
        """A top-level field's value in a new record."""
        key = ErrorKey.top(self.prefix, fd.code)
        sent = fd.code in entries
        if fd.type in ("CREATOR", "MODIFIER"):
            written = write_user(self.target(fd, key), entries[fd.code]) if sent else None
            return written or self.ctx.caller.entity
        if fd.type in ("CREATED_TIME", "UPDATED_TIME"):
            written = write_value(self.target(fd, key), entries[fd.code]) if sent else ""
            return written or iso_minute(self.ctx.now())
        if fd.type == "STATUS":
            return ""  # set by _start_process once the creator is known
        if fd.type == "SUBTABLE":
            return self.new_rows(fd, entries[fd.code]) if sent else []
        if sent:
            return write_value(self.target(fd, key), entries[fd.code])
        return self.default(fd)

    def default(self, fd: FieldDef) -> Any:
        """An unsent field of a new record or row; lookup copies start empty, not defaulted."""
        if self.server_filled(fd):
            return empty_value(fd.type)
        return default_value(self.ctx, fd, self.precision)

    def server_filled(self, fd: FieldDef) -> bool:
        """CALC, auto-calculated text and lookup copy targets: writes to them are ignored."""
        return is_computed(fd) or fd.code in self.ignored

    # -- subtables

    def new_rows(self, table: FieldDef, raw: Any) -> list[dict]:
        return self.merged_rows(table, [], raw)

    def merged_rows(self, table: FieldDef, existing: list[dict], raw: Any) -> list[dict]:
        """The sent rows; a row whose id matches an existing row is merged into it (4.9)."""
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise bad_json()
        by_id = {str(row["id"]): row for row in existing}
        rows = []
        for index, sent in enumerate(raw):
            if not isinstance(sent, dict) or not isinstance(sent.get("value", {}), dict):
                raise bad_json()
            old = by_id.pop(str(sent.get("id")), None)
            rows.append(self._row(table, index, old, sent.get("value") or {}))
        return rows

    def _row(self, table: FieldDef, index: int, old: dict | None, sent: dict) -> dict:
        values = copy.deepcopy(old["value"]) if old else {}
        for fd in self.form.inner(table.code):
            key = ErrorKey.inner(self.prefix, table.code, index, fd.code)
            if fd.code in sent and not self.server_filled(fd):
                raw = _raw(sent[fd.code])
                values[fd.code] = write_value(self.target(fd, key, in_table=True), raw)
            elif old is None:
                values[fd.code] = self.default(fd)
        for fd in self.form.inner(table.code):
            if fd.lookup and (old is None or fd.code in sent):
                self.lookup(fd, values, values[fd.code])
        row_id = old["id"] if old else str(self.ctx.db.next_value("subtable_row"))
        return {"id": row_id, "value": values}

    # -- lookups

    def lookup(self, fd: FieldDef, values: dict, key_value: Any) -> None:
        """Copy the mapped fields of the related record whose key is ``key_value``."""
        mappings = [(self.form.get(m["field"]), m["relatedField"])
                    for m in fd.lookup.get("fieldMappings", [])]
        mappings = [(target, source) for target, source in mappings
                    if target is not None and target.table == fd.table]
        if is_empty(key_value):
            for target, _ in mappings:
                values[target.code] = empty_value(target.type)
            return
        # Kintone answers a caller who may not view the source app (an API-token request
        # without the source app's token) as if the key were missing: the same GAIA_LO04.
        found = _related_record(self.ctx, fd.lookup, str(key_value))
        if found is None or not has_right(self.ctx, found[0].id, "view"):
            raise KintoneError("GAIA_LO04", (key_value, fd.code))
        related, rec_id, related_data = found
        for target, source in mappings:
            values[target.code] = _copied(target, related, rec_id, related_data, source)

    # -- the record as a whole

    def finish(self, data: dict, rec_id: int | None) -> None:
        compute_fields(self.form, data, tz=self.ctx.tz, precision=self.precision)
        for fd in record_fields(self.app):
            if fd.type == "SUBTABLE":
                self._check_rows(fd, data.get(fd.code) or [])
            elif not is_computed(fd):
                key = ErrorKey.top(self.prefix, fd.code)
                value = data.get(fd.code, empty_value(fd.type))
                check_value(fd, value, key, self.problems)
                self._check_unique(fd, value, key, rec_id)

    def _check_rows(self, table: FieldDef, rows: list[dict]) -> None:
        for index, row in enumerate(rows):
            for fd in self.form.inner(table.code):
                if not is_computed(fd):
                    key = ErrorKey.inner(self.prefix, table.code, index, fd.code)
                    value = row["value"].get(fd.code, empty_value(fd.type))
                    check_value(fd, value, key, self.problems)

    def _check_unique(self, fd: FieldDef, value: Any, key: ErrorKey, rec_id: int | None) -> None:
        if not fd.props.get("unique") or fd.type not in _UNIQUE_TYPES or is_empty(value):
            return
        if _find_record(self.ctx, self.app.id, fd, str(value), exclude=rec_id) is not None:
            self.problems.add(key.value, "unique")


def _blank(raw: Any) -> bool:
    """A CREATOR/MODIFIER ``{"code": ""}`` or CREATED_TIME/UPDATED_TIME ``""`` (or null)."""
    return raw in (None, "") or (isinstance(raw, dict) and raw.get("code") == "")


def _raw(entry: Any) -> Any:
    """The ``value`` of one sent field (``{"value": ...}``; other keys such as ``type`` ignored)."""
    if not isinstance(entry, dict):
        raise bad_json()
    return entry.get("value")


def _find_record(ctx: Ctx, app_id: int, fd: FieldDef, value: str,
                 exclude: int | None = None) -> int | None:
    """The lowest record id whose top-level field ``fd`` equals ``value`` (via the index)."""
    if fd.type in _NUMERIC_INDEX_TYPES:
        number = parse_number(value)
        if number is None:
            return None
        column, needle = "n", float(number)
    else:
        column, needle = "s", value
    # "+rec" keeps SQLite on the (app, code, value) index instead of walking the app's rows.
    row = ctx.db.conn.execute(
        f"SELECT rec FROM record_values WHERE app = ? AND code = ? AND row = 0 AND {column} = ? "
        "AND rec != ? ORDER BY +rec LIMIT 1",
        (app_id, fd.code, needle, -1 if exclude is None else exclude),
    ).fetchone()
    return row["rec"] if row else None


def _related_record(ctx: Ctx, lookup: dict, key: str) -> tuple[App, int, dict] | None:
    """``(app, id, data)`` of the lookup's source record whose key field equals ``key``."""
    related = load_app(ctx.db.conn, int(lookup["relatedApp"]["app"]))
    key_fd = related.form.get(lookup["relatedKeyField"]) if related else None
    if related is None or key_fd is None:
        return None
    if key_fd.type == "RECORD_NUMBER":
        digits = key.removeprefix(f"{related.code}-") if related.code else key
        rec_id = int(digits) if digits.isdigit() else None
    else:
        rec_id = _find_record(ctx, related.id, key_fd, key)
    row = ctx.db.conn.execute(
        "SELECT data FROM records WHERE app = ? AND id = ?", (related.id, rec_id)
    ).fetchone()
    return (related, rec_id, json.loads(row["data"])) if row else None


def _copied(target: FieldDef, related: App, rec_id: int, data: dict, source_code: str) -> Any:
    """A lookup copy of the source record's field, in the target field's stored format."""
    source = related.form.get(source_code)
    if source is None:
        return empty_value(target.type)
    value = record_number(related, rec_id) if source.type == "RECORD_NUMBER" else \
        data.get(source_code)
    if is_empty(value):
        return empty_value(target.type)
    if target.type == "NUMBER":
        number = parse_number(str(value))
        return format_number(number) if number is not None else ""
    return copy.deepcopy(value)
