"""Short-lived shared values (idempotency keys): the ``KeyValueStore`` interface, kept in memory
for one instance or in Redis for several.

``add`` is the claim: exactly one of several concurrent callers (in any instance) stores its
value, the others learn that the key is taken. Values are bytes; what they mean is the caller's.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
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
