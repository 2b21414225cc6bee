"""``record/comments.json`` (read) and ``record/comment.json`` (add, delete)."""

from __future__ import annotations

from typing import Any

from .. import comments
from ..apps import App
from ..clock import iso_second
from ..comments import MENTION_TYPES, Mention
from ..context import Ctx
from ..errors import KintoneError, Problems, invalid
from ..params import Params
from ..records import exists
from ..webhooks import comment_event
from .common import live_app
from .registry import endpoint

PAGE_SIZE = 10
MAX_TEXT = 65535
MAX_MENTIONS = 10


@endpoint("GET", "record/comments")
def get_comments(ctx: Ctx, params: Params) -> dict:
    order = params.str("order", default="desc")
    if order not in ("asc", "desc"):
        raise invalid("order", "enum")
    offset = params.int("offset", required=False, default=0, minimum=0)
    limit = params.int("limit", required=False, default=PAGE_SIZE, minimum=1, maximum=PAGE_SIZE)
    app, rec_id = _commented_record(ctx, params)
    page = comments.page(ctx.db.conn, app.id, rec_id, newest_first=order == "desc",
                         offset=offset, limit=limit)
    return {"comments": page.comments, "older": page.older, "newer": page.newer}


@endpoint("POST", "record/comment")
def add_comment(ctx: Ctx, params: Params) -> dict:
    text, wanted = _comment_input(ctx, params.obj("comment", required=True))
    app, rec_id = _commented_record(ctx, params)
    mentions = [_mention(ctx, code, kind) for code, kind in wanted]
    comment_id = ctx.db.next_value(comments.counter_name(app.id, rec_id))
    comment = comments.add(
        ctx.db.conn, app.id, rec_id, comment_id, text=text, created_at=iso_second(ctx.now()),
        creator=ctx.caller.entity, mentions=mentions,
    )
    ctx.events.append(comment_event(ctx, app, rec_id, comment))
    return {"id": comment["id"]}


@endpoint("DELETE", "record/comment")
def delete_comment(ctx: Ctx, params: Params) -> dict:
    comment_id = params.int("comment", minimum=1)
    app, rec_id = _commented_record(ctx, params)
    conn = ctx.db.conn
    comment = comments.get(conn, app.id, rec_id, comment_id)
    if comment is None:
        raise KintoneError("GAIA_RE02")
    if comment["creator"]["code"] != ctx.caller.entity["code"]:
        raise KintoneError("GAIA_RE03")
    comments.delete(conn, app.id, rec_id, comment_id)
    return {}


def _commented_record(ctx: Ctx, params: Params) -> tuple[App, int]:
    """The app and record a comment call addresses, in an app whose comments are enabled."""
    rec_id = params.int("record", minimum=1)
    app = live_app(ctx, params.int("app"))
    if not app.app_settings.get("enableComments", True):
        raise KintoneError("GAIA_RE12")
    if not exists(ctx.db.conn, app.id, rec_id):
        raise KintoneError("GAIA_RE01", (rec_id,))
    return app, rec_id


def _comment_input(ctx: Ctx, comment: dict) -> tuple[str, list[tuple[str, str]]]:
    """The text and the ``(code, type)`` mentions of a new comment; CB_VA01 on bad input."""
    problems = Problems(ctx.lang)
    text = _scalar(comment.get("text"))
    if not text:
        problems.add("comment.text", "required_param")
    elif len(text) > MAX_TEXT:
        problems.add("comment.text", "size_range", 1, MAX_TEXT)
    mentions = comment.get("mentions") or []
    if not isinstance(mentions, list) or not all(isinstance(m, dict) for m in mentions):
        raise KintoneError("CB_IJ01")
    if len(mentions) > MAX_MENTIONS:
        problems.add("comment.mentions", "size_range", 0, MAX_MENTIONS)
    wanted = []
    for i, mention in enumerate(mentions):
        code, kind = _scalar(mention.get("code")), _scalar(mention.get("type"))
        if not code:
            problems.add(f"comment.mentions[{i}].code", "required_param")
        if kind not in MENTION_TYPES:
            problems.add(f"comment.mentions[{i}].type",
                         "required_param" if not kind else "enum")
        wanted.append((code, kind))
    problems.raise_if_any()
    return text, wanted


def _scalar(value: Any) -> str:
    if isinstance(value, dict | list):
        raise KintoneError("CB_IJ01")
    return "" if value is None else str(value)


def _mention(ctx: Ctx, code: str, kind: str) -> Mention:
    """A mention of an existing user, group or organization (GAIA_IL26 otherwise)."""
    entity = ctx.sandbox.directory.entity(kind, code)
    if entity is None or entity.get("active") is False:
        raise KintoneError("GAIA_IL26", (code,))
    return Mention(code, kind, entity.get("name") or code)
