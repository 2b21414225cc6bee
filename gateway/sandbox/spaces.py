"""Spaces and guest spaces as stored, and the ``space.json`` view of them.

A space row holds its settings, its member logins and its threads. The default thread of a
space has the space's own id (so ``thread = space`` works for a fresh space, as on a new tenant).
Apps belong to a space through ``apps.space_id`` and to a thread through their ``threadId``.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from .app_admin import app_json
from .clock import iso_millis


def create_space(conn: sqlite3.Connection, *, name: str, is_guest: bool,
                 creator: dict | str | None, now: datetime, members: list[str] | None = None,
                 is_private: bool = False, body: str = "") -> int:
    """A new space; ``creator`` is a ``{code, name}`` entity or a login (None: Administrator).

    The creator is always a member. Returns the space id.
    """
    entity = _entity(conn, creator)
    logins = list(dict.fromkeys([entity["code"], *(members or [])]))
    data = {
        "name": name,
        "isPrivate": is_private,
        "isGuest": is_guest,
        "creator": entity,
        "modifier": entity,
        "createdAt": iso_millis(now),
        "members": logins,
        "body": body,
        "useMultiThread": False,
        "fixedMember": False,
        "coverType": "PRESET",
        "coverKey": "GREEN",
        "threads": [],
    }
    space_id = int(conn.execute("INSERT INTO spaces (data) VALUES (?)",
                                (json.dumps(data, ensure_ascii=False),)).lastrowid)
    data["threads"] = [space_id]
    _store(conn, space_id, data)
    return space_id


def default_thread(space: dict, space_id: int) -> int:
    return (space.get("threads") or [space_id])[0]


def has_thread(space: dict, thread_id: int) -> bool:
    return thread_id in (space.get("threads") or [])


def can_view(space: dict, user: dict) -> bool:
    """Members see every space; others see only public normal spaces (tenant admins: all)."""
    if user.get("admin") or user["login"] in space.get("members", []):
        return True
    return not space.get("isGuest") and not space.get("isPrivate")


def space_json(conn: sqlite3.Connection, space_id: int, space: dict, base_url: str) -> dict:
    """The ``GET space.json`` body of a stored space."""
    return {
        "id": str(space_id),
        "name": space["name"],
        "defaultThread": str(default_thread(space, space_id)),
        "isPrivate": space.get("isPrivate", False),
        "creator": space["creator"],
        "modifier": space.get("modifier", space["creator"]),
        "memberCount": str(len(space.get("members", []))),
        "coverType": space.get("coverType", "PRESET"),
        "coverKey": space.get("coverKey", "GREEN"),
        "coverUrl": f"{base_url}/k/static/space/cover/{space.get('coverKey', 'GREEN').lower()}.jpg",
        "body": space.get("body", ""),
        "useMultiThread": space.get("useMultiThread", False),
        "isGuest": space.get("isGuest", False),
        "attachedApps": attached_apps(conn, space_id),
        "fixedMember": space.get("fixedMember", False),
        "showAnnouncement": True,
        "showThreadList": True,
        "showAppList": True,
        "showMemberList": True,
        "showRelatedLinkList": True,
        "permissions": {"createApp": "EVERYONE"},
    }


def attached_apps(conn: sqlite3.Connection, space_id: int) -> list[dict]:
    """The deployed apps of a space, as ``space.json`` lists them (app.json without spaceId)."""
    rows = conn.execute(
        "SELECT id, code, space_id, info FROM apps WHERE space_id = ? AND deployed = 1 "
        "ORDER BY id",
        (space_id,),
    ).fetchall()
    return [{k: v for k, v in app_json(row).items() if k != "spaceId"} for row in rows]


def _entity(conn: sqlite3.Connection, creator: dict | str | None) -> dict:
    if isinstance(creator, dict):
        return {"code": creator["code"], "name": creator.get("name", creator["code"])}
    if creator is None:
        return {"code": "Administrator", "name": "Administrator"}
    row = conn.execute("SELECT data FROM users WHERE login = ?", (creator,)).fetchone()
    name = json.loads(row["data"]).get("name", creator) if row else creator
    return {"code": creator, "name": name}


def _store(conn: sqlite3.Connection, space_id: int, data: dict) -> None:
    conn.execute("UPDATE spaces SET data = ? WHERE id = ?",
                 (json.dumps(data, ensure_ascii=False), space_id))
