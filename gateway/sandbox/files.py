"""Files: temporary upload keys, download keys of attached files, and their contents.

An upload (``POST file.json``) stores the bytes under a temporary key (a UUID) that lives three
days. Attaching it to a record consumes that key and files the bytes under a new download key,
the only kind of key ``GET file.json`` accepts (as on real Kintone, where the key a record read
returns differs from the upload key).
"""

from __future__ import annotations

import secrets
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .clock import iso_second

UPLOAD_TTL = timedelta(days=3)


_META = "key, kind, name, content_type, size, created_at"


@dataclass(frozen=True)
class StoredFile:
    name: str
    content_type: str
    content: bytes


def file_value(key: str, name: str, content_type: str, size: int) -> dict:
    """A FILE field value (the size as a string, like every Kintone number)."""
    return {"contentType": content_type, "fileKey": key, "name": name, "size": str(size)}


def store_upload(conn: sqlite3.Connection, name: str, content_type: str, content: bytes,
                 now: datetime) -> str:
    """Keep an uploaded file under a new temporary upload key and return the key."""
    purge_expired(conn, now)
    key = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO files (key, kind, name, content_type, size, created_at, content) "
        "VALUES (?, 'upload', ?, ?, ?, ?, ?)",
        (key, name, content_type, len(content), iso_second(now), content),
    )
    return key


def attach(conn: sqlite3.Connection, key: str, now: datetime) -> dict | None:
    """The FILE value a record stores for ``key``; None when the key is unknown or expired.

    An upload key is consumed (single use) and its file gets a fresh download key; an existing
    download key (a client resending a file the record already has) keeps its file and key.
    """
    row = conn.execute(f"SELECT {_META} FROM files WHERE key = ?", (key,)).fetchone()
    if row is None or _expired(row, now):
        return None
    if row["kind"] == "upload":
        key = new_download_key(now)
        conn.execute(
            "UPDATE files SET key = ?, kind = 'download', created_at = ? WHERE key = ?",
            (key, iso_second(now), row["key"]),
        )
    return file_value(key, row["name"], row["content_type"], row["size"])


def find_download(conn: sqlite3.Connection, key: str) -> StoredFile | None:
    """An attached file by its download key (upload keys are not downloadable)."""
    row = conn.execute(
        "SELECT name, content_type, content FROM files WHERE key = ? AND kind = 'download'",
        (key,),
    ).fetchone()
    return StoredFile(row["name"], row["content_type"], bytes(row["content"])) if row else None


def new_download_key(now: datetime) -> str:
    """Shaped like real Kintone's: a 14-digit UTC timestamp and 32 upper-case hex digits."""
    return now.astimezone(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(16).upper()


def purge_expired(conn: sqlite3.Connection, now: datetime) -> None:
    """Discard upload keys older than three days that were never attached."""
    conn.execute(
        "DELETE FROM files WHERE kind = 'upload' AND created_at <= ?",
        (iso_second(now - UPLOAD_TTL),),
    )


def _expired(row: sqlite3.Row, now: datetime) -> bool:
    return row["kind"] == "upload" and row["created_at"] <= iso_second(now - UPLOAD_TTL)
