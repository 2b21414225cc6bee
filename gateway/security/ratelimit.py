"""Request-rate limits: requests per hour (per user and per client address) and concurrent
requests per user.

The hourly limit is a GCRA (a token bucket kept as one timestamp per key): a client may use its
whole hour's allowance at once, then earns one request back every ``3600 / limit`` seconds; the
wait until then is the ``Retry-After``. State is one float per key, so a flood of addresses
costs little, and keys that have fully recovered are forgotten.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..settings import Section

HOUR = 3600.0
_SWEEP_ABOVE = 10_000  # keys kept before recovered ones are swept away
_LIMIT_MAX = 10_000_000


class GcraBackend(Protocol):
    """Where the hourly limiter keeps its per-key state."""

    def advance(self, key: str, interval: float, period: float, now: float) -> float | None:
        """Count one request of ``key``; ``None`` when allowed, else the seconds until one
        would be."""


class SlotBackend(Protocol):
    """Where the concurrency limiter counts the requests running per key."""

    def acquire(self, key: str, limit: int) -> bool: ...

    def release(self, key: str) -> None: ...


class MemoryGcra:
    """The in-process backend: one timestamp per key (its next request's theoretical arrival)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}

    def advance(self, key: str, interval: float, period: float, now: float) -> float | None:
        with self._lock:
            due = max(self._due.get(key, now), now) + interval
            if due - now > period:
                return due - period - now
            self._due[key] = due
            if len(self._due) > _SWEEP_ABOVE:
                self._due = {k: t for k, t in self._due.items() if t > now}
        return None


class MemorySlots:
    """The in-process backend of the concurrency limiter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()

    def acquire(self, key: str, limit: int) -> bool:
        with self._lock:
            if 0 < limit <= self._running[key]:
                return False
            self._running[key] += 1
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._running[key] -= 1
            if self._running[key] <= 0:
                del self._running[key]


class HourlyLimiter:
    def __init__(self, clock: Callable[[], float], period: float = HOUR,
                 backend: GcraBackend | None = None) -> None:
        self._clock = clock
        self._period = period
        # Chosen by create_app: Redis when several gateway instances count together.
        self.backend: GcraBackend = backend or MemoryGcra()

    def hit(self, key: str, limit: int) -> float | None:
        """Count one request; ``None`` when allowed, else the seconds until one would be."""
        if limit <= 0:
            return None
        return self.backend.advance(key, self._period / limit, self._period, self._clock())


class ConcurrencyLimiter:
    def __init__(self, backend: SlotBackend | None = None) -> None:
        # Chosen by create_app: Redis when several gateway instances count together.
        self.backend: SlotBackend = backend or MemorySlots()

    def acquire(self, key: str, limit: int) -> bool:
        return self.backend.acquire(key, limit)

    def release(self, key: str) -> None:
        self.backend.release(key)


@dataclass(frozen=True)
class Limits:
    """Server-wide defaults (``[Security]``); 0 = unlimited. A user's own values win."""

    per_hour: int = 1000
    concurrent: int = 100
    per_hour_per_ip: int = 0

    @classmethod
    def from_settings(cls, security: Section) -> Limits:
        def limit(key: str, default: int) -> int:
            return security.get_int(key, default, minimum=0, maximum=_LIMIT_MAX)

        return cls(limit("RequestsPerHour", cls.per_hour),
                   limit("MaxConcurrent", cls.concurrent),
                   limit("RequestsPerHourPerIP", cls.per_hour_per_ip))
