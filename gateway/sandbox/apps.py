"""Apps as stored: identity, deployed ("live") settings and pre-live ("preview") settings."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import cached_property

from .errors import KintoneError
from .fields import Form


@dataclass
class App:
    """One app. ``settings`` is the live (or preview) settings document:

    ``{"properties": {...}, "layout": [...], "views": {...}, "settings": {...},
    "status": {...}, "revision": int}``.
    """

    id: int
    code: str
    space_id: int | None
    deployed: bool
    info: dict
    settings: dict

    @cached_property
    def form(self) -> Form:
        return Form(self.settings["properties"])

    @property
    def name(self) -> str:
        return self.info["name"]

    @property
    def app_settings(self) -> dict:
        return self.settings["settings"]

    @property
    def process(self) -> dict:
        return self.settings["status"]

    @property
    def revision(self) -> int:
        return self.settings["revision"]


def load_app(conn: sqlite3.Connection, app_id: int, *, preview: bool = False) -> App | None:
    """The app with its live settings (or preview settings), or None when it does not exist.

    A never-deployed app exists only in preview: ``load_app(..., preview=False)`` returns None.
    """
    row = conn.execute("SELECT * FROM apps WHERE id = ?", (app_id,)).fetchone()
    if row is None or (not preview and not row["deployed"]):
        return None
    return App(
        id=row["id"],
        code=row["code"],
        space_id=row["space_id"],
        deployed=bool(row["deployed"]),
        info=json.loads(row["info"]),
        settings=json.loads(row["preview" if preview else "live"]),
    )


def require_app(conn: sqlite3.Connection, app_id: int, *, preview: bool = False) -> App:
    app = load_app(conn, app_id, preview=preview)
    if app is None:
        raise KintoneError("GAIA_AP01", (app_id,))
    return app


def load_space(conn: sqlite3.Connection, space_id: int | None) -> dict | None:
    if space_id is None:
        return None
    row = conn.execute("SELECT data FROM spaces WHERE id = ?", (space_id,)).fetchone()
    return json.loads(row["data"]) if row else None


def check_space_path(conn: sqlite3.Connection, app: App, guest_space: int | None) -> None:
    """Guest-space apps only through ``/k/guest/{id}/v1``, and only their own space's id there."""
    space = load_space(conn, app.space_id)
    in_guest_space = bool(space and space.get("isGuest"))
    if guest_space is None:
        if in_guest_space:
            raise KintoneError("GAIA_IL23")
    elif app.space_id != guest_space or not in_guest_space:
        raise KintoneError("CB_NO02")
