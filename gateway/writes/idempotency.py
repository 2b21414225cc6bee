"""``Idempotency-Key`` on POST: a client that lost the gateway's answer sends the same request
again with the same key and gets the first answer back (header ``Idempotent-Replayed: true``)
instead of a second record.

* A key is scoped to the caller (the gateway user), so callers never see each other's
  answers.
* The same key with a different request (method, path or body) → 422; the same key while the
  first request still runs → 409 (try again shortly).
* Every answer is kept except 429/503, which say nothing was applied (or the write may be
  repeated): the retry should then really run. A ``WriteOutcomeUnknown`` answer is kept, so a
  retry cannot create the record a second time.
* The store is in memory, per gateway process: at most ``capacity`` keys (the oldest go first),
  each for ``ttl`` seconds. Settings ``[writes] IdempotencyTTL`` (seconds, default 86400) and
  ``IdempotencyCapacity`` (default 10000).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..odata.errors import ODataError
from ..settings import Settings
from .exchange import Reply, WriteRequest

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_NOT_KEPT = frozenset({429, 503})


@dataclass(frozen=True)
class _Entry:
    fingerprint: str
    expires: float
    reply: Reply | None  # None while the first request runs


class IdempotencyStore:
    def __init__(self, ttl: float = 86_400, capacity: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> IdempotencyStore:
        section = settings.section("writes")
        return cls(section.get_float("IdempotencyTTL", 86_400, minimum=1, maximum=30 * 86_400),
                   section.get_int("IdempotencyCapacity", 10_000, minimum=1, maximum=10**7))

    def run(self, req: WriteRequest, caller: str, handle: Callable[[], Reply]) -> Reply:
        """``handle()``'s reply, or the one kept for the request's key and ``caller``."""
        key = req.headers.get(HEADER)
        if req.method != "POST" or not key:
            return handle()
        scoped = _digest(caller, key)
        fingerprint = _digest(req.method, req.path, req.query, req.body.decode("utf-8", "replace"))
        kept = self._claim(scoped, fingerprint)
        if kept is not None:
            return replace(kept, headers={**kept.headers, REPLAYED: "true"})
        try:
            reply = handle()
        except BaseException:
            self._forget(scoped)
            raise
        self._keep(scoped, fingerprint, reply)
        return reply

    def _claim(self, key: str, fingerprint: str) -> Reply | None:
        """The kept reply, or None after registering this request as running."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = _Entry(fingerprint, now + self._ttl, None)
                self._trim()
                return None
        if entry.fingerprint != fingerprint:
            raise ODataError(422, "IdempotencyKeyReused", f"The {HEADER} was already used for a "
                             "different request.")
        if entry.reply is None:
            raise ODataError(409, "IdempotencyKeyInUse", f"A request with this {HEADER} is "
                             "still running; try again shortly.")
        return entry.reply

    def _keep(self, key: str, fingerprint: str, reply: Reply) -> None:
        if reply.status in _NOT_KEPT:
            self._forget(key)
            return
        with self._lock:
            self._entries[key] = _Entry(fingerprint, self._clock() + self._ttl, reply)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _expire(self, now: float) -> None:
        # Entries are in insertion order and share one TTL: the expired ones lead.
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.expires > now:
                return
            del self._entries[key]

    def _trim(self) -> None:
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
