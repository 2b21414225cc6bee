"""``records/cursor.json``: create a cursor over a query, read it page by page, release it."""

from __future__ import annotations

import sqlite3

import orjson

from ..apps import App, require_app
from ..context import Ctx
from ..cursors import Page, cursors, owner_of
from ..errors import KintoneError
from ..params import Params
from ..query import compile_query
from ..values import RecordShape
from .common import live_app
from .registry import endpoint

DEFAULT_SIZE = 100
MAX_SIZE = 500


@endpoint("POST", "records/cursor")
def create_cursor(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    fields = params.list("fields")
    if fields is not None and not all(isinstance(code, str) for code in fields):
        raise KintoneError("CB_IJ01")
    size = params.int("size", required=False, default=DEFAULT_SIZE, minimum=1, maximum=MAX_SIZE)
    query = compile_query(params.str("query", default="") or "", app.form, ctx, app=app.id,
                          allow_paging=False)
    rows = ctx.db.conn.execute(
        f"SELECT r.id FROM records r WHERE r.app = ? AND ({query.where}) "
        f"ORDER BY {query.order_by}",
        [app.id, *query.params, *query.order_params],
    ).fetchall()
    cursor = cursors(ctx.sandbox).create(
        owner_of(ctx.caller, app.id), app.id, [r["id"] for r in rows], fields, size
    )
    return {"id": cursor.id, "totalCount": str(cursor.total)}


@endpoint("GET", "records/cursor", right=None)
def read_cursor(ctx: Ctx, params: Params) -> dict:
    page = cursors(ctx.sandbox).next_page(params.str("id", required=True), ctx.caller)
    app = require_app(ctx.db.conn, page.app)
    return {"records": _page_records(ctx.db.conn, app, page), "next": page.more}


@endpoint("DELETE", "records/cursor", right=None)
def delete_cursor(ctx: Ctx, params: Params) -> dict:
    cursors(ctx.sandbox).release(params.str("id", required=True), ctx.caller)
    return {}


def _page_records(conn: sqlite3.Connection, app: App, page: Page) -> list[dict]:
    """Current values of the page's records, in cursor order; deleted records are skipped."""
    if not page.ids:
        return []
    marks = ",".join("?" * len(page.ids))
    rows = conn.execute(
        f"SELECT id, revision, data FROM records WHERE app = ? AND id IN ({marks})",
        [app.id, *page.ids],
    ).fetchall()
    by_id = {r["id"]: r for r in rows}
    shape = RecordShape.of(app, page.fields)
    return [
        shape.typed(rec_id, by_id[rec_id]["revision"], orjson.loads(by_id[rec_id]["data"]))
        for rec_id in page.ids
        if rec_id in by_id
    ]
