"""Creating and deploying apps: the storage side of the app administration API."""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import datetime

from .clock import iso_millis
from .fields import system_properties


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
        "revision": 1,
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
    settings = json.dumps(default_settings(name, lang=lang), ensure_ascii=False)
    cur = conn.execute(
        "INSERT INTO apps (space_id, deployed, info, live, preview) VALUES (?, 0, ?, ?, ?)",
        (space_id, json.dumps(info, ensure_ascii=False), settings, settings),
    )
    return int(cur.lastrowid)


def update_preview(conn: sqlite3.Connection, app_id: int, mutate) -> dict:
    """Apply ``mutate(settings)`` to the preview settings, bump their revision, store them."""
    row = conn.execute("SELECT preview FROM apps WHERE id = ?", (app_id,)).fetchone()
    settings = json.loads(row["preview"])
    mutate(settings)
    settings["revision"] += 1
    conn.execute(
        "UPDATE apps SET preview = ? WHERE id = ?",
        (json.dumps(settings, ensure_ascii=False), app_id),
    )
    return settings


def deploy(conn: sqlite3.Connection, app_id: int, *, now: datetime, modifier: dict) -> None:
    """Copy the preview settings live (synchronously; the API reports SUCCESS at once)."""
    row = conn.execute("SELECT preview, info FROM apps WHERE id = ?", (app_id,)).fetchone()
    settings = json.loads(row["preview"])
    info = json.loads(row["info"])
    info["name"] = settings["settings"]["name"]
    info["description"] = settings["settings"]["description"]
    info["modifiedAt"] = iso_millis(now)
    info["modifier"] = modifier
    conn.execute(
        "UPDATE apps SET live = ?, info = ?, deployed = 1, deploy_status = 'SUCCESS' WHERE id = ?",
        (json.dumps(copy.deepcopy(settings), ensure_ascii=False),
         json.dumps(info, ensure_ascii=False), app_id),
    )


def set_code(conn: sqlite3.Connection, app_id: int, code: str) -> None:
    conn.execute("UPDATE apps SET code = ? WHERE id = ?", (code, app_id))
