"""Short-lived shared values (idempotency keys): the ``KeyValueStore`` interface, kept in memory
or in a local SQLite file (``LocalStore``) for one instance, or in Redis for several.

``add`` is the claim: exactly one of several concurrent callers (in any instance) stores its
value, the others learn that the key is taken. Values are bytes; what they mean is the caller's.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import redis


class KeyValueStore(Protocol):
    def add(self, key: str, value: bytes, ttl: float) -> bool:
        """Store ``value`` for ``ttl`` seconds unless ``key`` holds one; True when stored."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds, replacing any."""

    def delete(self, key: str) -> None: ...


class MemoryStore:
    """At most ``capacity`` keys (the ones stored longest ago go first)."""

    def __init__(self, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._store(key, value, ttl)
            return True

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._live(key)

    def put(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._store(key, value, ttl)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _live(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[key]
            return None
        return entry[0]

    def _store(self, key: str, value: bytes, ttl: float) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (value, self._clock() + ttl)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)


@dataclass(frozen=True)
class Quotas:
    """A ``LocalStore``'s bounds: per owner (keys and bytes) and in all (bytes)."""

    keys_per_owner: int = 1_000
    bytes_per_owner: int = 4 * 1024 * 1024
    bytes: int = 256 * 1024 * 1024


_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    value BLOB NOT NULL,
    size INTEGER NOT NULL,
    claimed INTEGER NOT NULL,   -- 1: added (a request in flight), 0: put (its outcome)
    stored REAL NOT NULL,       -- wall-clock seconds: the file outlives the process
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_owner ON kv (owner, claimed, stored);
CREATE INDEX IF NOT EXISTS kv_stored ON kv (claimed, stored);
"""


class LocalStore:
    """Keys ``<owner>/<name>`` in a SQLite file (``:memory:``: none), so that they outlive the
    process. Bounded by ``quotas``: past an owner's quota, that owner's oldest outcomes go;
    past the store's, the oldest outcomes of any owner go. A claim (``add``, a request in
    flight) is never evicted: it ends with ``put``, ``delete`` or its ``ttl``."""

    def __init__(self, path: str, quotas: Quotas = Quotas(),
                 clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._quotas = quotas
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None  # opened on first use

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        with self._transaction() as conn:
            now = self._clock()
            conn.execute("DELETE FROM kv WHERE key = ? AND expires <= ?", (key, now))
            added = conn.execute(
                "INSERT OR IGNORE INTO kv VALUES (?, ?, ?, ?, 1, ?, ?)",
                (key, _owner(key), value, len(value), now, now + ttl)).rowcount == 1
            return added

    def get(self, key: str) -> bytes | None:
        with self._transaction() as conn:
            row = conn.execute("SELECT value FROM kv WHERE key = ? AND expires > ?",
                               (key, self._clock())).fetchone()
            return None if row is None else bytes(row[0])

    def put(self, key: str, value: bytes, ttl: float) -> None:
        with self._transaction() as conn:
            now = self._clock()
            conn.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?, ?, 0, ?, ?)",
                         (key, _owner(key), value, len(value), now, now + ttl))
            self._bound(conn, _owner(key), now)

    def delete(self, key: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM kv WHERE key = ?", (key,))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _bound(self, conn: sqlite3.Connection, owner: str, now: float) -> None:
        conn.execute("DELETE FROM kv WHERE expires <= ?", (now,))
        quotas = self._quotas
        _trim(conn, "owner = ? AND claimed = 0", (owner,), quotas.keys_per_owner,
              quotas.bytes_per_owner)
        _trim(conn, "claimed = 0", (), None, quotas.bytes)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction at a time (one process writes the file: several need Redis)."""
        with self._lock:
            if self._conn is None:
                self._conn = sqlite3.connect(self._path, check_same_thread=False, timeout=30)
                self._conn.executescript(_SCHEMA)
            with self._conn:  # commits, or rolls back what raised
                yield self._conn


def _owner(key: str) -> str:
    return key.partition("/")[0] if "/" in key else ""


def _trim(conn: sqlite3.Connection, where: str, args: tuple, keys: int | None,
          size: int) -> None:
    """Delete the oldest rows matching ``where`` until at most ``keys`` and ``size`` bytes
    remain."""
    count, total = conn.execute(f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM kv "
                                f"WHERE {where}", args).fetchone()
    rows = conn.execute(f"SELECT key, size FROM kv WHERE {where} ORDER BY stored", args)
    doomed: list[str] = []
    for key, row_size in rows:
        if (keys is None or count <= keys) and total <= size:
            break
        doomed.append(key)
        count -= 1
        total -= row_size
    conn.executemany("DELETE FROM kv WHERE key = ?", [(key,) for key in doomed])


class RedisStore:
    """Keys under ``prefix``; Redis expires them and evicts by its own ``maxmemory`` policy."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(self._client.set(self._prefix + key, value, px=_ms(ttl), nx=True))

    def get(self, key: str) -> bytes | None:
        return self._client.get(self._prefix + key)

    def put(self, key: str, value: bytes, ttl: float) -> None:
        self._client.set(self._prefix + key, value, px=_ms(ttl))

    def delete(self, key: str) -> None:
        self._client.delete(self._prefix + key)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
