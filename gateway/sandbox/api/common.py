"""Helpers shared by the endpoint modules."""

from __future__ import annotations

from ..apps import App, check_space_path, load_app
from ..context import Ctx
from ..errors import KintoneError


def live_app(ctx: Ctx, app_id: int, *, preview: bool = False) -> App:
    """The app a request addresses, checked against the request's guest-space path."""
    app = load_app(ctx.db.conn, app_id, preview=preview)
    if app is None:
        if ctx.guest_space is not None:
            raise KintoneError("CB_NO02")
        raise KintoneError("GAIA_AP01", (app_id,))
    check_space_path(ctx.db.conn, app, ctx.guest_space)
    return app
