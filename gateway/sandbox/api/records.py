"""``record.json``, ``records.json``: read, add, update (merge, upsert) and delete records."""

from __future__ import annotations

import orjson

from ..apps import App
from ..auth import require_right
from ..context import Ctx
from ..errors import KintoneError, Problems, invalid
from ..params import Params, to_int
from ..query import compile_query
from ..record_write import new_record_data, updated_record_data
from ..records import check_revision, delete, exists, fetch, find_by_key, insert, update
from ..values import RecordShape, typed_record
from ..webhooks import record_event
from .common import live_app
from .registry import endpoint

DEFAULT_READ = 100
MAX_WRITE = 100
UPDATE_KEY_TYPES = ("SINGLE_LINE_TEXT", "NUMBER")


@endpoint("GET", "record")
def get_record(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    rec_id = params.int("id", minimum=1)
    revision, data = fetch(ctx.db.conn, app.id, rec_id)
    return {"record": typed_record(app, rec_id, revision, data)}


@endpoint("GET", "records")
def get_records(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    fields = params.list("fields")
    query = compile_query(params.str("query", default="") or "", app.form, ctx, app=app.id)
    limit = DEFAULT_READ if query.limit is None else query.limit
    offset = query.offset or 0
    conn = ctx.db.conn
    rows = conn.execute(
        f"SELECT r.id, r.revision, r.data FROM records r WHERE r.app = ? AND ({query.where}) "
        f"ORDER BY {query.order_by} LIMIT ? OFFSET ?",
        [app.id, *query.params, *query.order_params, limit, offset],
    ).fetchall()
    total = None
    if params.bool("totalCount"):
        total = str(conn.execute(
            f"SELECT count(*) FROM records r WHERE r.app = ? AND ({query.where})",
            [app.id, *query.params],
        ).fetchone()[0])
    shape = RecordShape.of(app, fields)
    records = [shape.typed(r["id"], r["revision"], orjson.loads(r["data"])) for r in rows]
    return {"records": records, "totalCount": total}


@endpoint("POST", "record", right="add", bulk=True)
def add_record(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    problems = Problems(ctx.lang)
    data = new_record_data(ctx, app, params.obj("record"), "record", problems)
    problems.raise_if_any()
    rec_id, revision = insert(ctx.db.conn, app, data)
    ctx.events.append(record_event(ctx, app, "ADD_RECORD", rec_id, revision, data))
    return {"id": str(rec_id), "revision": str(revision)}


@endpoint("POST", "records", right="add", bulk=True)
def add_records(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    items = params.list("records", required=True)
    if len(items) > MAX_WRITE:
        raise invalid("records", "max_add")
    problems = Problems(ctx.lang)
    ids, revisions = [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise KintoneError("CB_IJ01")
        data = new_record_data(ctx, app, item, f"records[{i}]", problems)
        if problems:
            continue  # keep validating the rest; nothing is stored when any record fails
        rec_id, revision = insert(ctx.db.conn, app, data)
        ids.append(str(rec_id))
        revisions.append(str(revision))
    problems.raise_if_any()
    return {"ids": ids, "revisions": revisions}


@endpoint("PUT", "record", right="edit", bulk=True)
def update_record(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    target = _target(ctx, app, params.data, "")
    revision = _revision(params.data.get("revision"), "revision")
    if target is None:
        _raise_no_match(params.data)
    new_revision, data = _apply_update(ctx, app, target, params.obj("record"), revision, "record")
    ctx.events.append(record_event(ctx, app, "UPDATE_RECORD", target, new_revision, data))
    return {"revision": str(new_revision)}


@endpoint("PUT", "records", right="edit", bulk=True)
def update_records(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    items = params.list("records", required=True)
    if len(items) > MAX_WRITE:
        raise invalid("records", "max_update")
    upsert = params.bool("upsert")
    if upsert:
        require_right(ctx, app.id, "add")
    results = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise KintoneError("CB_IJ01")
        results.append(_update_one(ctx, app, item, i, upsert))
    return {"records": results}


def _update_one(ctx: Ctx, app: App, item: dict, i: int, upsert: bool) -> dict:
    prefix = f"records[{i}]"
    target = _target(ctx, app, item, f"{prefix}.")
    revision = _revision(item.get("revision"), f"{prefix}.revision")
    record = item.get("record")
    if record is not None and not isinstance(record, dict):
        raise KintoneError("CB_IJ01")
    if target is None:
        if not upsert:
            _raise_no_match(item)
        return _upsert_insert(ctx, app, item, record or {}, prefix)
    new_revision, _ = _apply_update(ctx, app, target, record, revision, prefix)
    result = {"id": str(target), "revision": str(new_revision)}
    if upsert:
        result["operation"] = "UPDATE"
    return result


def _raise_no_match(item: dict) -> None:
    if item.get("updateKey"):
        raise KintoneError("GAIA_RE20")
    raise KintoneError("GAIA_RE01", (item.get("id"),))


def _upsert_insert(ctx: Ctx, app: App, item: dict, record: dict, prefix: str) -> dict:
    """Upsert of an unmatched element: a plain add, storing the update key's value."""
    key = item.get("updateKey")
    if key:
        record = {**record, key["field"]: {"value": key.get("value", "")}}
    problems = Problems(ctx.lang)
    data = new_record_data(ctx, app, record, prefix, problems)
    problems.raise_if_any()
    rec_id, revision = insert(ctx.db.conn, app, data)
    return {"id": str(rec_id), "revision": str(revision), "operation": "INSERT"}


def _apply_update(ctx: Ctx, app: App, rec_id: int, record: dict | None, revision: int | None,
                  prefix: str) -> tuple[int, dict]:
    conn = ctx.db.conn
    current, existing = fetch(conn, app.id, rec_id)
    check_revision(current, revision)
    if record is None:  # "the record is not updated"; the revision stays
        return current, existing
    problems = Problems(ctx.lang)
    data = updated_record_data(ctx, app, rec_id, existing, record, prefix, problems)
    problems.raise_if_any()
    return update(conn, app, rec_id, data), data


def _target(ctx: Ctx, app: App, item: dict, key_prefix: str) -> int | None:
    """The record an update addresses by ``id`` or ``updateKey``; None when nothing matches."""
    has_id = item.get("id") not in (None, "")
    key = item.get("updateKey")
    if has_id and key:
        raise invalid(f"{key_prefix}id", "both_id_and_key")
    if has_id:
        rec_id = to_int(item["id"], f"{key_prefix}id", minimum=1)
        return rec_id if exists(ctx.db.conn, app.id, rec_id) else None
    if not key:
        raise invalid(f"{key_prefix}id", "required_param")
    if not isinstance(key, dict) or not isinstance(key.get("field"), str):
        raise KintoneError("CB_IJ01")
    fd = app.form.get(key["field"])
    if fd is None or fd.table or fd.type not in UPDATE_KEY_TYPES or not fd.props.get("unique"):
        raise KintoneError("GAIA_IQ27")
    value = key.get("value")
    if isinstance(value, dict | list):
        raise KintoneError("CB_IJ01")
    return find_by_key(ctx.db.conn, app, fd.code, "" if value is None else str(value))


def _revision(value: object, key: str) -> int | None:
    if value is None or value == "":
        return None
    return to_int(value, key, minimum=-1)


def _ids_messages(given: bool, lang: str) -> tuple[str, ...]:
    if given:
        return ("delete_range",)
    return ("delete_range", "required_param") if lang == "en" else ("required_param",
                                                                   "delete_range")


@endpoint("DELETE", "records", right="delete", bulk=True)
def delete_records(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    ids = params.list("ids") or []
    if not ids or len(ids) > MAX_WRITE:
        problems = Problems(ctx.lang)
        # Both messages when ids is missing: the range first in English, last in Japanese (as
        # real Kintone lists them).
        for msg in _ids_messages(bool(ids), ctx.lang):
            problems.add("ids", msg)
        problems.raise_if_any()
    record_ids = [to_int(v, f"ids[{i}]", minimum=1) for i, v in enumerate(ids)]
    revisions = params.list("revisions") or []
    conn = ctx.db.conn
    for i, rec_id in enumerate(record_ids):
        current, _ = fetch(conn, app.id, rec_id)
        if i < len(revisions):
            check_revision(current, _revision(revisions[i], f"revisions[{i}]"))
    delete(conn, app.id, record_ids)
    return {}

