"""``space.json``: a space or guest space, with its attached apps (users only, no API tokens)."""

from __future__ import annotations

from ..apps import load_space
from ..context import Ctx
from ..errors import KintoneError
from ..params import Params
from ..spaces import can_view, space_json
from .registry import endpoint


@endpoint("GET", "space", right=None, users_only=True)
def get_space(ctx: Ctx, params: Params) -> dict:
    space_id = params.int("id", minimum=1)
    conn = ctx.db.conn
    space = load_space(conn, space_id)
    if space is None:
        raise KintoneError("CB_NO02") if ctx.guest_space else KintoneError("GAIA_SP01", (space_id,))
    if bool(space.get("isGuest")) != (ctx.guest_space is not None):
        raise KintoneError("GAIA_IL23") if ctx.guest_space is None else KintoneError("CB_NO02")
    if ctx.guest_space is not None and ctx.guest_space != space_id:
        raise KintoneError("CB_NO02")
    if not can_view(space, ctx.caller.user):
        raise KintoneError("CB_NO02")
    return space_json(conn, space_id, space, ctx.base_url)
