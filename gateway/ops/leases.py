"""Counted slots shared through Redis, held as leases that expire when their holder dies.

A slot set is a sorted set: one member per lease, scored by the time (Redis's clock, so that the
instances' clocks need not agree) when it expires. Taking a slot first drops expired leases, so
a worker killed mid-request blocks its slots for at most one lease time. A thread of each
process renews the leases it holds, so a request may run far longer than a lease (exports).
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import defaultdict

import redis

log = logging.getLogger("gateway.ops")

# KEYS[1] the set; ARGV limit (0 = none), lease, lease milliseconds. 1 when taken, else 0.
_ACQUIRE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
local limit = tonumber(ARGV[1])
if limit > 0 and redis.call('ZCARD', KEYS[1]) >= limit then
  return 0
end
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS the sets; ARGV lease milliseconds, then for each key one lease. Leases that expired in
# the meantime stay gone (XX): their slot may already be someone else's.
_RENEW = """
local now = redis.call('TIME')
local until_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if redis.call('ZADD', key, 'XX', 'CH', until_ms, ARGV[i + 1]) == 1 then
    redis.call('PEXPIRE', key, ARGV[1])
  end
end
return 0
"""


class LeaseSlots:
    """Slot sets under ``prefix`` in one Redis; ``acquire`` never waits."""

    def __init__(self, client: redis.Redis, prefix: str, lease_seconds: float) -> None:
        self._client = client
        self._prefix = prefix
        self._lease_ms = int(lease_seconds * 1000)
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._lock = threading.Lock()
        self._held: dict[str, str] = {}  # lease -> key
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew_every, args=(lease_seconds / 3,),
                                         name="lease-renewer", daemon=True)
        self._renewer.start()

    def acquire(self, name: str, limit: int) -> str | None:
        """A lease on one of ``name``'s ``limit`` slots (0 = unlimited), or ``None`` if all are
        taken."""
        key, lease = self._prefix + name, uuid.uuid4().hex
        if not self._acquire(keys=[key], args=[limit, lease, self._lease_ms]):
            return None
        with self._lock:
            self._held[lease] = key
        return lease

    def release(self, lease: str) -> None:
        with self._lock:
            key = self._held.pop(lease)
        try:
            self._client.zrem(key, lease)
        except redis.RedisError as exc:  # not renewed any more, the lease expires on its own
            log.warning("Releasing a shared slot failed: %s", exc)

    def close(self) -> None:
        """Stop renewing (the leases still held then expire on their own)."""
        self._stop.set()

    def _renew_every(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with self._lock:
                held = list(self._held.items())
            if not held:
                continue
            try:
                self._renew(keys=[key for _, key in held],
                            args=[self._lease_ms, *(lease for lease, _ in held)])
            except redis.RedisError as exc:  # the next round tries again
                log.warning("Renewing the shared slot leases failed: %s", exc)


class SharedSemaphore:
    """A context manager that waits for one of ``limit`` slots of ``name``, shared by every
    process using the same Redis; the cap on concurrent Kintone requests."""

    _FIRST_WAIT, _LONGEST_WAIT = 0.005, 0.05

    def __init__(self, slots: LeaseSlots, name: str, limit: int) -> None:
        self._slots = slots
        self._name = name
        self._limit = limit
        self._local = threading.local()  # the leases this thread holds, innermost last

    def __enter__(self) -> SharedSemaphore:
        wait = self._FIRST_WAIT
        while (lease := self._slots.acquire(self._name, self._limit)) is None:
            # Jittered, growing polls: waiters that started together do not poll together.
            time.sleep(random.uniform(wait / 2, wait))
            wait = min(wait * 2, self._LONGEST_WAIT)
        self._stack().append(lease)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._slots.release(self._stack().pop())

    def _stack(self) -> list[str]:
        if not hasattr(self._local, "leases"):
            self._local.leases = []
        return self._local.leases


class SharedUserSlots:
    """The per-user concurrency limit's backend (``security.ratelimit.SlotBackend``) in Redis."""

    def __init__(self, slots: LeaseSlots) -> None:
        self._slots = slots
        self._lock = threading.Lock()
        self._held: defaultdict[str, list[str]] = defaultdict(list)  # key -> its leases here

    def acquire(self, key: str, limit: int) -> bool:
        lease = self._slots.acquire(f"user:{key}", limit)
        if lease is None:
            return False
        with self._lock:
            self._held[key].append(lease)
        return True

    def release(self, key: str) -> None:
        # The leases of one key are interchangeable: any of them frees a slot.
        with self._lock:
            leases = self._held[key]
            lease = leases.pop()
            if not leases:
                del self._held[key]
        self._slots.release(lease)
