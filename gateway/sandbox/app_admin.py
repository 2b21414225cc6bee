"""Creating, changing and deploying apps: the storage side of the app administration API.

An app has two settings documents (see ``apps.App``): ``preview`` (what the ``preview/`` APIs
change) and ``live`` (what records and the live read APIs use). Deploying copies preview to live
and brings the app's records in line with the new form: renamed fields move, removed fields'
data is dropped, formulas are recomputed, and the query index is rebuilt.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from .apps import load_app
from .calc import compute_fields
from .clock import iso_millis
from .errors import KintoneError
from .fields import Form, system_properties
from .form_admin import check_formulas
from .index import reindex
from .values import Precision

# Field renames made in preview, applied to the records when the app is deployed.
PENDING_RENAMES = "renamed"
UTC = ZoneInfo("UTC")


def default_settings(name: str, description: str = "", lang: str = "en") -> dict:
    """The settings document of a freshly created app (see ``apps.App``)."""
    return {
        "properties": system_properties(lang),
        "layout": [],
        "views": {},
        "settings": {
            "name": name,
            "description": description,
            "icon": {"type": "PRESET", "key": "APP72"},
            "theme": "WHITE",
            "titleField": {"selectionMode": "AUTO", "code": ""},
            "enableThumbnails": True,
            "enableBulkDeletion": False,
            "enableComments": True,
            "enableDuplicateRecord": True,
            "enableInlineRecordEditing": True,
            "numberPrecision": {"digits": "16", "decimalPlaces": "4", "roundingMode": "HALF_EVEN"},
            "firstMonthOfFiscalYear": "4",
        },
        "status": {"enable": False, "states": None, "actions": None},
        "revision": 2,  # Kintone answers an app creation with revision "2"
    }


def create_app(conn: sqlite3.Connection, *, name: str, creator: dict, now: datetime,
               space_id: int | None = None, thread_id: int | None = None,
               lang: str = "en") -> int:
    """A new app that exists only in preview until it is deployed (as on real Kintone)."""
    stamp = iso_millis(now)
    info = {
        "name": name,
        "description": "",
        "threadId": thread_id,
        "createdAt": stamp,
        "creator": creator,
        "modifiedAt": stamp,
        "modifier": creator,
    }
    settings = _dump(default_settings(name, lang=lang))
    cur = conn.execute(
        "INSERT INTO apps (space_id, deployed, info, live, preview) VALUES (?, 0, ?, ?, ?)",
        (space_id, _dump(info), settings, settings),
    )
    return int(cur.lastrowid)


def update_preview(conn: sqlite3.Connection, app_id: int, mutate: Callable[[dict], object], *,
                   revision: int | None = None) -> dict:
    """Apply ``mutate(settings)`` to the preview settings, bump their revision, store them.

    ``revision`` (None or -1: no check) must be the current preview revision (409 GAIA_CO03).
    """
    row = conn.execute("SELECT preview FROM apps WHERE id = ?", (app_id,)).fetchone()
    settings = json.loads(row["preview"])
    check_settings_revision(settings, revision)
    mutate(settings)
    settings["revision"] += 1
    conn.execute("UPDATE apps SET preview = ? WHERE id = ?", (_dump(settings), app_id))
    return settings


def check_settings_revision(settings: dict, revision: int | None) -> None:
    if revision is not None and revision != -1 and revision != settings["revision"]:
        raise KintoneError("GAIA_CO03")


def note_renames(settings: dict, renamed: dict[str, str]) -> None:
    """Remember preview renames (chained: a->b then b->c is a->c) until the next deploy."""
    pending: dict[str, str] = settings.setdefault(PENDING_RENAMES, {})
    for old, new in renamed.items():
        origins = [origin for origin, target in pending.items() if target == old]
        for origin in origins:
            pending[origin] = new
        if not origins:
            pending[old] = new


def deploy(conn: sqlite3.Connection, app_id: int, *, now: datetime, modifier: dict,
           tz: ZoneInfo = UTC) -> None:
    """Copy the preview settings live (synchronously; the API reports SUCCESS at once)."""
    row = conn.execute("SELECT preview, live, info, deployed FROM apps WHERE id = ?",
                       (app_id,)).fetchone()
    settings = json.loads(row["preview"])
    check_formulas(settings["properties"])  # a formula may reference a field deleted since
    renamed = settings.pop(PENDING_RENAMES, {})
    old = json.loads(row["live"])
    info = json.loads(row["info"])
    info["name"] = settings["settings"]["name"]
    info["description"] = settings["settings"]["description"]
    info["modifiedAt"] = iso_millis(now)
    info["modifier"] = modifier
    conn.execute(
        "UPDATE apps SET live = ?, preview = ?, info = ?, deployed = 1, deploy_status = 'SUCCESS' "
        "WHERE id = ?",
        (_dump(settings), _dump(settings), _dump(info), app_id),
    )
    if renamed or _record_shape(old) != _record_shape(settings):
        _migrate_records(conn, app_id, renamed, tz)


def revert(conn: sqlite3.Connection, app_id: int) -> None:
    """Discard the preview changes: preview becomes the live settings again."""
    conn.execute("UPDATE apps SET preview = live WHERE id = ?", (app_id,))


def deploy_status(conn: sqlite3.Connection, app_id: int) -> str:
    row = conn.execute("SELECT deploy_status FROM apps WHERE id = ?", (app_id,)).fetchone()
    return row["deploy_status"]


def app_json(row: sqlite3.Row) -> dict:
    """The ``app.json`` body of an ``apps`` row."""
    info = json.loads(row["info"])
    return {
        "appId": str(row["id"]),
        "code": row["code"],
        "name": info["name"],
        "description": info.get("description", ""),
        "spaceId": _id_text(row["space_id"]),
        "threadId": _id_text(info.get("threadId")),
        "createdAt": info["createdAt"],
        "creator": info["creator"],
        "modifiedAt": info["modifiedAt"],
        "modifier": info["modifier"],
    }


def _id_text(value: int | None) -> str | None:
    return None if value is None else str(value)


def set_code(conn: sqlite3.Connection, app_id: int, code: str) -> None:
    conn.execute("UPDATE apps SET code = ? WHERE id = ?", (code, app_id))


# ---------------------------------------------------------------------------------------------
# Records after a deploy


def _record_shape(settings: dict) -> tuple:
    """What stored records depend on: fields, process states and number precision."""
    return (settings["properties"], settings["status"],
            settings["settings"].get("numberPrecision"))


def _migrate_records(conn: sqlite3.Connection, app_id: int, renamed: dict[str, str],
                     tz: ZoneInfo) -> None:
    app = load_app(conn, app_id)
    precision = Precision.of(app)
    rows = conn.execute("SELECT id, data FROM records WHERE app = ?", (app_id,)).fetchall()
    for row in rows:
        data = _reshape(json.loads(row["data"]), app.form, renamed)
        compute_fields(app.form, data, tz=tz, precision=precision)
        _start_process(data, app.form, app.process)
        conn.execute("UPDATE records SET data = ? WHERE app = ? AND id = ?",
                     (_dump(data), app_id, row["id"]))
        reindex(conn, app_id, row["id"], app.form, data)


def _reshape(data: dict, form: Form, renamed: dict[str, str]) -> dict:
    """Record data under the new form: renamed codes moved, removed fields' values dropped."""
    out = {}
    for code, value in data.items():
        code = renamed.get(code, code)
        fd = form.get(code)
        if fd is None or fd.table is not None:
            continue
        if fd.type == "SUBTABLE":
            inner = {f.code for f in form.inner(code)}
            value = [
                {**row, "value": {renamed.get(c, c): v for c, v in row["value"].items()
                                  if renamed.get(c, c) in inner}}
                for row in value or []
            ]
        out[code] = value
    return out


def _start_process(data: dict, form: Form, process: dict) -> None:
    """Records that predate process management (or whose status was removed) start over in
    the first status, without assignees."""
    states = process.get("states") or {}
    status, assignee = form.of_type("STATUS"), form.of_type("STATUS_ASSIGNEE")
    if not process.get("enable") or not states or status is None:
        return
    if data.get(status.code) in states:
        return
    first = min(states.values(), key=lambda state: int(state["index"]))
    data[status.code] = first["name"]
    if assignee is not None:
        data[assignee.code] = []


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
