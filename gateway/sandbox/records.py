"""Records as stored: read, insert, update and delete, keeping the query index in step."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from .apps import App
from .errors import KintoneError
from .index import reindex, unindex


def _dump(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def fetch(conn: sqlite3.Connection, app_id: int, rec_id: int) -> tuple[int, dict]:
    """``(revision, data)`` of one record, or GAIA_RE01."""
    row = conn.execute(
        "SELECT revision, data FROM records WHERE app = ? AND id = ?", (app_id, rec_id)
    ).fetchone()
    if row is None:
        raise KintoneError("GAIA_RE01", (rec_id,))
    return row["revision"], json.loads(row["data"])


def exists(conn: sqlite3.Connection, app_id: int, rec_id: int) -> bool:
    return conn.execute(
        "SELECT 1 FROM records WHERE app = ? AND id = ?", (app_id, rec_id)
    ).fetchone() is not None


def insert(conn: sqlite3.Connection, app: App, data: dict) -> tuple[int, int]:
    """Store a new record under the app's next id (ids are never reused). ``(id, revision)``."""
    row = conn.execute(
        "UPDATE apps SET next_record_id = next_record_id + 1 WHERE id = ? RETURNING next_record_id",
        (app.id,),
    ).fetchone()
    rec_id = row["next_record_id"] - 1
    conn.execute(
        "INSERT INTO records (app, id, revision, data) VALUES (?, ?, 1, ?)",
        (app.id, rec_id, _dump(data)),
    )
    reindex(conn, app.id, rec_id, app.form, data)
    return rec_id, 1


def update(conn: sqlite3.Connection, app: App, rec_id: int, data: dict, *, step: int = 1) -> int:
    """Replace a record's data; the revision grows by ``step``. Returns the new revision."""
    row = conn.execute(
        "UPDATE records SET data = ?, revision = revision + ? WHERE app = ? AND id = ? "
        "RETURNING revision",
        (_dump(data), step, app.id, rec_id),
    ).fetchone()
    reindex(conn, app.id, rec_id, app.form, data)
    return row["revision"]


def check_revision(current: int, expected: int | None) -> None:
    """Optimistic locking: ``None`` or -1 skips the check."""
    if expected is not None and expected != -1 and expected != current:
        raise KintoneError("GAIA_CO02")


def delete(conn: sqlite3.Connection, app_id: int, ids: Iterable[int]) -> None:
    for rec_id in ids:
        conn.execute("DELETE FROM records WHERE app = ? AND id = ?", (app_id, rec_id))
        conn.execute("DELETE FROM comments WHERE app = ? AND rec = ?", (app_id, rec_id))
        unindex(conn, app_id, rec_id)


def find_by_key(conn: sqlite3.Connection, app: App, field: str, value: str) -> int | None:
    """The record whose unique field ``field`` equals ``value`` (updateKey)."""
    fd = app.form.get(field)
    if fd is not None and fd.type == "NUMBER":
        try:
            number = float(value)
        except ValueError:
            return None
        row = conn.execute(
            "SELECT rec FROM record_values WHERE app = ? AND code = ? AND row = 0 AND n = ?",
            (app.id, field, number),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT rec FROM record_values WHERE app = ? AND code = ? AND row = 0 AND s = ?",
            (app.id, field, value),
        ).fetchone()
    return row["rec"] if row else None
