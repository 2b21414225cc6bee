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
from typing import Protocol, cast

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


# The bookkeeping of the outcomes (``put``) under ARGV[1], the prefix: ``q:all`` and
# ``q:owner:<owner>`` sorted sets of value keys scored by expiry (Redis's clock), ``q:sizes`` and
# ``q:owners`` hashes by value key, ``q:bytes`` totals ("all", "owner:<owner>"). Claims (``add``)
# are never in it, so never evicted. The script names these keys itself: one Redis, not a
# Redis Cluster.
_BOOKKEEPING = """
local prefix = ARGV[1]
local sizes, owners, totals = prefix .. 'q:sizes', prefix .. 'q:owners', prefix .. 'q:bytes'
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local function forget(key)
  local size = redis.call('HGET', sizes, key)
  if not size then return end
  local owner = redis.call('HGET', owners, key)
  redis.call('HDEL', sizes, key)
  redis.call('HDEL', owners, key)
  redis.call('ZREM', prefix .. 'q:all', key)
  redis.call('ZREM', prefix .. 'q:owner:' .. owner, key)
  redis.call('HINCRBY', totals, 'all', -tonumber(size))
  redis.call('HINCRBY', totals, 'owner:' .. owner, -tonumber(size))
end
local function evict_oldest(set)
  local key = redis.call('ZRANGE', set, 0, 0)[1]
  if not key then return false end  -- the books were cut short (Redis's maxmemory)
  forget(key)
  redis.call('DEL', key)
  return true
end
-- Expired outcomes leave the books only: their key may hold a new claim by now.
for _, key in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'q:all', '-inf', now_ms)) do
  forget(key)
end
"""

# KEYS[1] the value's key; ARGV prefix, owner, value, ttl ms, keys and bytes per owner, bytes.
_PUT = _BOOKKEEPING + """
local owner, value, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4])
local mine = prefix .. 'q:owner:' .. owner
forget(KEYS[1])
redis.call('SET', KEYS[1], value, 'PX', ttl)
redis.call('ZADD', prefix .. 'q:all', now_ms + ttl, KEYS[1])
redis.call('ZADD', mine, now_ms + ttl, KEYS[1])
redis.call('HSET', sizes, KEYS[1], #value)
redis.call('HSET', owners, KEYS[1], owner)
redis.call('HINCRBY', totals, 'all', #value)
redis.call('HINCRBY', totals, 'owner:' .. owner, #value)
while (redis.call('ZCARD', mine) > tonumber(ARGV[5])
    or tonumber(redis.call('HGET', totals, 'owner:' .. owner)) > tonumber(ARGV[6]))
    and evict_oldest(mine) do
end
while tonumber(redis.call('HGET', totals, 'all')) > tonumber(ARGV[7])
    and evict_oldest(prefix .. 'q:all') do
end
return 0
"""

# KEYS[1] the value's key; ARGV prefix.
_DELETE = _BOOKKEEPING + """
forget(KEYS[1])
redis.call('DEL', KEYS[1])
return 0
"""


class RedisStore:
    """Keys ``<owner>/<name>`` under ``prefix``, bounded by ``quotas`` as a ``LocalStore`` is,
    for every instance together: a claim (``add``) is never evicted, it ends with ``put``,
    ``delete`` or its ``ttl``."""

    def __init__(self, client: redis.Redis, prefix: str, quotas: Quotas = Quotas()) -> None:
        self._client = client
        self._prefix = prefix
        self._quotas = quotas
        self._put = client.register_script(_PUT)
        self._delete = client.register_script(_DELETE)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(self._client.set(self._value_key(key), value, px=_ms(ttl), nx=True))

    def get(self, key: str) -> bytes | None:
        # bytes, not str: the client is made without decode_responses.
        return cast("bytes | None", self._client.get(self._value_key(key)))

    def put(self, key: str, value: bytes, ttl: float) -> None:
        quotas = self._quotas
        self._put(keys=[self._value_key(key)],
                  args=[self._prefix, _owner(key), value, _ms(ttl), quotas.keys_per_owner,
                        quotas.bytes_per_owner, quotas.bytes])

    def delete(self, key: str) -> None:
        self._delete(keys=[self._value_key(key)], args=[self._prefix])

    def _value_key(self, key: str) -> str:
        return f"{self._prefix}v:{key}"  # apart from the bookkeeping's ``q:`` keys


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
