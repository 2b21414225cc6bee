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
* Keys live in a local SQLite file (``[writes] IdempotencyDatabase``, default
  ``idempotency.sqlite``), so that a retry after a restart (a worker killed mid-request) is
  still answered, or in Redis when the gateway is clustered (``[Cluster] Redis``), so that a
  retry reaching another instance is replayed too. The key is stored as running before
  Kintone is called; a running request holds it for ``claim_ttl`` seconds only, so that a
  worker that died mid-request does not block its key for a day; its reply is then kept for
  ``ttl`` seconds.
* Bounded: a reply larger than ``IdempotencyReplyBytes`` is kept as its outcome only (status
  and headers, e.g. the created entity's Location; a ``$batch`` keeps each request's status and
  headers), replayed with ``Idempotent-Reply: outcome``. A streamed reply (``$bulk``,
  ``$batch``) is kept so once all of it is sent; one its client left before its end is not
  kept. The local file keeps at most ``IdempotencyKeysPerUser`` keys and
  ``IdempotencyBytesPerUser`` bytes per user (that user's oldest go first) and
  ``IdempotencyBytes`` in all; keys of requests still running are never evicted. (Redis
  keeps keys until their TTL, within its own ``maxmemory``.)
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ..odata import payload
from ..odata.errors import ODataError
from ..ops.cluster import key_value_store, shared_redis
from ..ops.kvstore import KeyValueStore, LocalStore, MemoryStore, Quotas
from ..settings import Settings
from .exchange import Reply, Streamed, WriteRequest

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
OUTCOME_ONLY = "Idempotent-Reply"  # "outcome": the reply was too large to keep whole
NAMESPACE = "idempotency"
DATABASE = "idempotency.sqlite"
_NOT_KEPT = frozenset({429, 503})


class IdempotencyStore:
    def __init__(self, ttl: float = 86_400, capacity: int = 10_000,
                 clock: Callable[[], float] = time.monotonic, *,
                 claim_ttl: float = 600, keys: KeyValueStore | None = None,
                 reply_bytes: int = 64 * 1024) -> None:
        """Keys in ``keys``, else in memory (``capacity`` and ``clock`` are the memory's)."""
        self._ttl = ttl
        self._claim_ttl = min(claim_ttl, ttl)
        self._keys = keys if keys is not None else MemoryStore(capacity, clock)
        self._reply_bytes = reply_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> IdempotencyStore:
        section = settings.section("writes")
        number = section.get_int
        quotas = Quotas(
            keys_per_owner=number("IdempotencyKeysPerUser", Quotas.keys_per_owner,
                                  minimum=1, maximum=10**7),
            bytes_per_owner=number("IdempotencyBytesPerUser", Quotas.bytes_per_owner,
                                   minimum=1024, maximum=1024 ** 3),
            bytes=number("IdempotencyBytes", Quotas.bytes, minimum=1024,
                         maximum=64 * 1024 ** 3))
        keys: KeyValueStore
        if shared_redis(settings, NAMESPACE) is not None:
            keys = key_value_store(settings, NAMESPACE, quotas=quotas)
        else:
            keys = LocalStore(section.get("IdempotencyDatabase", DATABASE) or DATABASE, quotas)
        return cls(section.get_float("IdempotencyTTL", 86_400, minimum=1, maximum=30 * 86_400),
                   claim_ttl=section.get_float("IdempotencyClaimTTL", 600, minimum=1,
                                               maximum=86_400),
                   keys=keys,
                   reply_bytes=number("IdempotencyReplyBytes", 64 * 1024, minimum=256,
                                      maximum=64 * 1024 ** 2))

    def run(self, req: WriteRequest, caller: str, handle: Callable[[], Reply]) -> Reply:
        """``handle()``'s reply, or the one kept for the request's key and ``caller``."""
        key = req.headers.get(HEADER)
        if req.method != "POST" or not key:
            return handle()
        # The caller's digest first: the local store keeps its quotas per caller.
        scoped = f"{_digest(caller)}/{_digest(caller, key)}"
        fingerprint = _digest(req.method, req.path, req.query, req.body.decode("utf-8", "replace"))
        kept = self._claim(scoped, fingerprint)
        if kept is not None:
            return replace(kept, headers={**kept.headers, REPLAYED: "true"})
        try:
            reply = handle()
        except BaseException:
            self._keys.delete(scoped)
            raise
        if isinstance(reply.body, Iterator):
            return replace(reply, body=self._kept_when_sent(scoped, fingerprint, reply))
        self._keep(scoped, fingerprint, reply)
        return reply

    def _kept_when_sent(self, key: str, fingerprint: str, reply: Reply) -> Iterator[bytes]:
        """A streamed reply's chunks; once all are sent, the reply is kept (whole if it fits in
        ``reply_bytes``, holding no more than that meanwhile, else its outcome). One cut short
        (the client left) is not kept: its retry runs again, as for any request that failed."""
        whole: bytearray | None = bytearray()
        try:
            for chunk in reply.body:
                if whole is not None:
                    whole += chunk
                    if len(whole) > self._reply_bytes:
                        whole = None
                yield chunk
        except BaseException:
            self._keys.delete(key)
            raise
        outcome = reply.body.outcome if isinstance(reply.body, Streamed) else None
        self._keep(key, fingerprint, _outcome(replace(reply, body=outcome)) if whole is None
                   else replace(reply, body=bytes(whole)))

    def _claim(self, key: str, fingerprint: str) -> Reply | None:
        """The kept reply, or None after registering this request as running."""
        while True:
            if self._keys.add(key, _encode(fingerprint, None), self._claim_ttl):
                return None
            stored = self._keys.get(key)
            if stored is not None:  # else it expired in between: claim again
                break
        kept_fingerprint, reply = _decode(stored)
        if kept_fingerprint != fingerprint:
            raise ODataError.of("IdempotencyKeyReused", header=HEADER)
        if reply is None:
            raise ODataError.of("IdempotencyKeyInUse", header=HEADER)
        return reply

    def _keep(self, key: str, fingerprint: str, reply: Reply) -> None:
        if reply.status in _NOT_KEPT:
            self._keys.delete(key)
        else:
            stored = _encode(fingerprint, reply)
            if len(stored) > self._reply_bytes:
                stored = _encode(fingerprint, _outcome(reply))
            self._keys.put(key, stored, self._ttl)


def _outcome(reply: Reply) -> Reply:
    """What is kept of a reply too large to keep: its status and headers (for a ``$batch``,
    those of each of its requests)."""
    body = None
    if isinstance(reply.body, dict) and isinstance(reply.body.get("responses"), list):
        body = {"responses": [{name: value for name, value in response.items()
                               if name != "body"} for response in reply.body["responses"]]}
    return Reply(reply.status, body, {**reply.headers, OUTCOME_ONLY: "outcome"},
                 reply.content_type)


def _encode(fingerprint: str, reply: Reply | None) -> bytes:
    """The stored value: the request's fingerprint and its reply (None: still running)."""
    stored: dict[str, Any] = {"fingerprint": fingerprint}
    if reply is not None:
        stored.update(status=reply.status, headers=dict(reply.headers),
                      content_type=reply.content_type)
        if isinstance(reply.body, bytes):
            stored["raw"] = base64.b64encode(reply.body).decode()
        else:
            stored["body"] = reply.body
    return payload.dump_bytes(stored)


def _decode(stored: bytes) -> tuple[str, Reply | None]:
    value = json.loads(stored, parse_float=Decimal)  # as the writes read bodies: exact
    if "status" not in value:
        return value["fingerprint"], None
    body = base64.b64decode(value["raw"]) if "raw" in value else value.get("body")
    return value["fingerprint"], Reply(value["status"], body, value["headers"],
                                       value["content_type"])


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
