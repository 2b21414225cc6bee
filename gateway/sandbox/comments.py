"""Record comments as stored: per-record sequential ids, author, time and rendered mentions.

A comment's ``text`` is stored as Kintone returns it: the mentioned entities' display names
first, then a line break and the body, with the trailing blank Kintone appends to every comment.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

MENTION_TYPES = ("USER", "GROUP", "ORGANIZATION")


@dataclass(frozen=True)
class Mention:
    code: str
    type: str  # USER, GROUP or ORGANIZATION
    name: str  # display name, rendered into the comment text

    def as_json(self) -> dict:
        return {"code": self.code, "type": self.type}


def render_text(body: str, mentions: list[Mention]) -> str:
    if not mentions:
        return f"{body} "
    names = " ".join(m.name for m in mentions)
    return f"{names} \n{body} "


def add(conn: sqlite3.Connection, app_id: int, rec_id: int, comment_id: int, *, text: str,
        created_at: str, creator: dict, mentions: list[Mention]) -> dict:
    """Store a comment; returns it in the read format of ``record/comments.json``."""
    comment = {
        "id": str(comment_id),
        "text": render_text(text, mentions),
        "createdAt": created_at,
        "creator": creator,
        "mentions": [m.as_json() for m in mentions],
    }
    conn.execute(
        "INSERT INTO comments (app, rec, id, data) VALUES (?, ?, ?, ?)",
        (app_id, rec_id, comment_id, json.dumps(comment, ensure_ascii=False)),
    )
    return comment


def counter_name(app_id: int, rec_id: int) -> str:
    """The ``Database.next_value`` counter of a record's comment ids (never reused)."""
    return f"comment:{app_id}:{rec_id}"


def get(conn: sqlite3.Connection, app_id: int, rec_id: int, comment_id: int) -> dict | None:
    row = conn.execute(
        "SELECT data FROM comments WHERE app = ? AND rec = ? AND id = ?",
        (app_id, rec_id, comment_id),
    ).fetchone()
    return json.loads(row["data"]) if row else None


def delete(conn: sqlite3.Connection, app_id: int, rec_id: int, comment_id: int) -> None:
    conn.execute(
        "DELETE FROM comments WHERE app = ? AND rec = ? AND id = ?", (app_id, rec_id, comment_id)
    )


@dataclass(frozen=True)
class Page:
    comments: list[dict]
    older: bool  # more comments exist beyond the page towards older ones
    newer: bool  # ... towards newer ones


def page(conn: sqlite3.Connection, app_id: int, rec_id: int, *, newest_first: bool,
         offset: int, limit: int) -> Page:
    direction = "DESC" if newest_first else "ASC"
    rows = conn.execute(
        f"SELECT data FROM comments WHERE app = ? AND rec = ? ORDER BY id {direction} "
        "LIMIT ? OFFSET ?",
        (app_id, rec_id, limit, offset),
    ).fetchall()
    total = conn.execute(
        "SELECT count(*) FROM comments WHERE app = ? AND rec = ?", (app_id, rec_id)
    ).fetchone()[0]
    before, after = offset > 0, offset + limit < total
    return Page(
        comments=[json.loads(r["data"]) for r in rows],
        older=after if newest_first else before,
        newer=before if newest_first else after,
    )
