"""The SQLite backend of the trigger stores (``[Triggers] Database``): one file that survives
restarts and can be shared by the processes of one machine (``:memory:`` for tests).

Every statement runs under one lock on one connection, in explicit transactions: a claim
reads and leases in one ``BEGIN IMMEDIATE``, so two workers (threads or processes) never
take the same delivery at once.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .store import DeadLetter, Delivery, Subscription

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, app INTEGER NOT NULL, entity_set TEXT NOT NULL, event TEXT NOT NULL,
    callback TEXT NOT NULL, owner TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS subscriptions_by_event ON subscriptions (app, event);
CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, subscription TEXT NOT NULL, body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, due REAL NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_by_due ON deliveries (due);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY, subscription TEXT NOT NULL, entity_set TEXT NOT NULL,
    event TEXT NOT NULL, callback TEXT NOT NULL, body BLOB NOT NULL, attempts INTEGER NOT NULL,
    error TEXT NOT NULL, failed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS keys (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""
# Kintone does not send a notification twice; a day of ids is ample to drop replays.
NOTIFICATION_MEMORY = 86_400.0
DEAD_LETTERS_KEPT = 1000
KEY_BYTES = 32


class SqliteStore:
    """``SubscriptionStore``, ``DeliveryQueue`` and ``KeyStore`` in one SQLite database."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                     timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- SubscriptionStore -----------------------------------------------------------------

    def add(self, subscription: Subscription) -> None:
        s = subscription
        with self._transaction() as conn:
            conn.execute("INSERT INTO subscriptions VALUES (?, ?, ?, ?, ?, ?)",
                         (s.id, s.app, s.entity_set, s.event, s.callback, s.owner))

    def get(self, subscription_id: str) -> Subscription | None:
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM subscriptions WHERE id = ?",
                               (subscription_id,)).fetchone()
        return Subscription(*row) if row else None

    def remove(self, subscription_id: str) -> bool:
        with self._transaction() as conn:
            conn.execute("DELETE FROM deliveries WHERE subscription = ?", (subscription_id,))
            return conn.execute("DELETE FROM subscriptions WHERE id = ?",
                                (subscription_id,)).rowcount > 0

    def matching(self, app: int, event: str) -> list[Subscription]:
        with self._transaction() as conn:
            rows = conn.execute("SELECT * FROM subscriptions WHERE app = ? AND event = ? "
                                "ORDER BY rowid", (app, event)).fetchall()
        return [Subscription(*row) for row in rows]

    def all(self) -> list[Subscription]:
        with self._transaction() as conn:
            rows = conn.execute("SELECT * FROM subscriptions ORDER BY rowid").fetchall()
        return [Subscription(*row) for row in rows]

    # -- DeliveryQueue ---------------------------------------------------------------------

    def enqueue(self, event_id: str, deliveries: Sequence[tuple[str, bytes]], now: float
                ) -> bool:
        with self._transaction() as conn:
            conn.execute("DELETE FROM notifications WHERE received < ?",
                         (now - NOTIFICATION_MEMORY,))
            new = conn.execute("INSERT OR IGNORE INTO notifications VALUES (?, ?)",
                               (event_id, now)).rowcount > 0
            if new:
                conn.executemany("INSERT INTO deliveries (subscription, body, due) "
                                 "VALUES (?, ?, ?)",
                                 [(sub, body, now) for sub, body in deliveries])
        return new

    def claim(self, now: float, lease: float) -> Delivery | None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT d.id, d.subscription, s.callback, d.body, d.attempts, s.owner, "
                "s.entity_set, s.event FROM deliveries d "
                "JOIN subscriptions s ON s.id = d.subscription WHERE d.due <= ? "
                "ORDER BY d.due, d.id LIMIT 1", (now,)).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE deliveries SET due = ? WHERE id = ?", (now + lease, row[0]))
        return Delivery(*row)

    def next_due(self) -> float | None:
        with self._transaction() as conn:
            return conn.execute("SELECT MIN(due) FROM deliveries").fetchone()[0]

    def depth(self) -> int:
        with self._transaction() as conn:
            return conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]

    def delivered(self, delivery_id: int) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM deliveries WHERE id = ?", (delivery_id,))

    def postpone(self, delivery_id: int, due: float) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE deliveries SET due = ? WHERE id = ?", (due, delivery_id))

    def retry(self, delivery_id: int, due: float) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE deliveries SET attempts = attempts + 1, due = ? WHERE id = ?",
                         (due, delivery_id))

    def bury(self, delivery_id: int, error: str, now: float) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO dead_letters SELECT d.id, d.subscription, s.entity_set, s.event, "
                "s.callback, d.body, d.attempts + 1, ?, ? FROM deliveries d "
                "JOIN subscriptions s ON s.id = d.subscription WHERE d.id = ?",
                (error, now, delivery_id))
            conn.execute("DELETE FROM deliveries WHERE id = ?", (delivery_id,))
            conn.execute("DELETE FROM dead_letters WHERE id NOT IN (SELECT id FROM dead_letters "
                         "ORDER BY failed_at DESC, id DESC LIMIT ?)", (DEAD_LETTERS_KEPT,))

    def dead_letters(self, limit: int) -> list[DeadLetter]:
        with self._transaction() as conn:
            rows = conn.execute("SELECT * FROM dead_letters ORDER BY failed_at DESC, id DESC "
                                "LIMIT ?", (limit,)).fetchall()
        return [DeadLetter(*row) for row in rows]

    # -- KeyStore --------------------------------------------------------------------------

    def key(self, name: str) -> bytes:
        with self._transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO keys VALUES (?, ?)",
                         (name, secrets.token_bytes(KEY_BYTES)))
            return conn.execute("SELECT value FROM keys WHERE name = ?", (name,)).fetchone()[0]
