"""SQLite storage of the sandbox: one connection, serialised by a lock, one transaction a request.

Records are stored twice: as JSON documents (``records.data``, the read format of every field) and
as index rows that the query compiler turns Kintone queries into SQL over:

* ``record_values(app, rec, code, row, s, n)``: one row per value of a queryable field.
  ``row`` is 0 for top-level fields and the subtable row id for fields inside a subtable.
  Scalar fields get exactly one row per record (``s`` = normalised string, ``''`` when empty;
  ``n`` = numeric value for NUMBER / CALC / RECORD_NUMBER, else NULL). Multi-value fields
  (CHECK_BOX, MULTI_SELECT, USER/ORGANIZATION/GROUP_SELECT, STATUS_ASSIGNEE, CATEGORY, FILE names)
  get one row per value and none when empty. Each subtable row also gets one row with
  ``code`` = the subtable code and ``s`` NULL, so "the table has rows" is a lookup.
* ``record_words(app, rec, code, row, token)``: the full-text tokens ``like`` searches.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator

SCHEMA = """
PRAGMA foreign_keys = OFF;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (login TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS organizations (code TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups_ (code TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spaces (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS apps (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL DEFAULT '',
    space_id INTEGER,
    deployed INTEGER NOT NULL DEFAULT 0,
    info TEXT NOT NULL,          -- name, description, creator, timestamps, thread id
    live TEXT NOT NULL,          -- deployed settings: fields, layout, views, settings, status
    preview TEXT NOT NULL,       -- pre-live settings, copied to live on deploy
    deploy_status TEXT NOT NULL DEFAULT 'SUCCESS',
    next_record_id INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS api_tokens (
    token TEXT PRIMARY KEY,
    app INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    app INTEGER NOT NULL,
    id INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (app, id)
);
CREATE TABLE IF NOT EXISTS record_values (
    app INTEGER NOT NULL,
    rec INTEGER NOT NULL,
    code TEXT NOT NULL,
    row INTEGER NOT NULL,
    s TEXT,
    n REAL
);
-- rec in the value indexes lets a condition's record list come from the index alone.
DROP INDEX IF EXISTS record_values_s;
DROP INDEX IF EXISTS record_values_n;
CREATE INDEX IF NOT EXISTS record_values_s_rec ON record_values (app, code, s, rec);
CREATE INDEX IF NOT EXISTS record_values_n_rec ON record_values (app, code, n, rec);
CREATE INDEX IF NOT EXISTS record_values_rec ON record_values (app, rec, code, row);
CREATE TABLE IF NOT EXISTS record_words (
    app INTEGER NOT NULL,
    rec INTEGER NOT NULL,
    code TEXT NOT NULL,
    row INTEGER NOT NULL,
    token TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS record_words_token ON record_words (app, code, token);
CREATE INDEX IF NOT EXISTS record_words_rec ON record_words (app, rec);
CREATE TABLE IF NOT EXISTS comments (
    app INTEGER NOT NULL,
    rec INTEGER NOT NULL,
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (app, rec, id)
);
CREATE TABLE IF NOT EXISTS files (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,          -- 'upload' (temporary) or 'download' (attached to a record)
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY,
    app INTEGER NOT NULL,
    data TEXT NOT NULL
);
"""


class Database:
    """A SQLite database shared by all request threads.

    A single connection guarded by a re-entrant lock keeps concurrent requests safe and makes
    every request's transaction atomic (all-or-nothing writes, bulkRequest) without relying on
    SQLite's busy handling.
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.executescript(SCHEMA)
        self._depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run one transaction; nested calls join the outer one."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def next_value(self, name: str) -> int:
        """A named counter (subtable row ids, comment ids, ...); must run inside a transaction."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
        value = int(row["value"]) + 1 if row else 1
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (name, str(value)),
        )
        return value

    def reset(self) -> None:
        with self.lock:
            tables = [
                r["name"]
                for r in self.conn.execute(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            for table in tables:
                self.conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self.lock:
            self.conn.close()
