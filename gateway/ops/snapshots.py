"""The model's snapshot (``gateway.service.snapshot``) kept in Redis for a cluster's instances.

A failing Redis must not stop an instance from having a model: the store then answers as if
the instance were alone (no snapshot, its own check to run), and the instance reads Kintone.
Only ``drop`` (an administrator's reload) fails loudly: silently keeping the snapshot would
serve the very model the reload was asked to replace.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

import redis

log = logging.getLogger("gateway.ops")
T = TypeVar("T")
SNAPSHOTS = "schema-snapshot:"
CHECKS = "schema-check:"


class RedisSchemaStore:
    """The snapshot of one ``scope`` (``snapshot_scope``: what it was read for) under
    ``prefix``, and the claim of its next check, both expiring after ``ttl_seconds``."""

    def __init__(self, client: redis.Redis, prefix: str, scope: str, ttl_seconds: float) -> None:
        self._client = client
        self._key = f"{prefix}{SNAPSHOTS}{scope}"
        self._claim = f"{prefix}{CHECKS}{scope}"
        self._every_scope = f"{_glob_escaped(prefix)}{SNAPSHOTS}*"
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._failing = False  # warned already: once per outage, not once per call

    def get(self) -> bytes | None:
        data = self._try(lambda: self._client.get(self._key), None)
        return data if isinstance(data, bytes) else None  # the client decodes nothing

    def put(self, snapshot: bytes) -> None:
        self._try(lambda: self._client.set(self._key, snapshot, px=self._ttl_ms), None)

    def claim_check(self) -> bool:
        # A claim expires rather than being given back: the winner is the one checker of the
        # TTL even if it dies, and a failed check waits for the next period like a passed one.
        return self._try(lambda: bool(self._client.set(self._claim, b"", nx=True,
                                                       px=self._ttl_ms)), True)

    def drop(self) -> None:
        """Forget the snapshots of every scope: the reload invalidates every instance sharing
        the prefix, and each must then read Kintone, not a snapshot its reload came to undo."""
        stale = list(self._client.scan_iter(match=self._every_scope, count=500))
        if stale:
            self._client.delete(*stale)

    def _try(self, command: Callable[[], T], fallback: T) -> T:
        try:
            answer = command()
        except redis.RedisError as exc:  # its messages name the host, never the password
            if not self._failing:
                log.warning("The shared model snapshot is out of reach (%s): this instance "
                            "reads Kintone itself until Redis answers.", exc)
            self._failing = True
            return fallback
        self._failing = False
        return answer


def _glob_escaped(text: str) -> str:
    """``text`` matched literally by a Redis pattern (a KeyPrefix may hold ``*`` or ``[``)."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
