"""Several gateway instances behind one load balancer, sharing their state in Redis
(``[Cluster] Redis = redis://...``):

* the per-user (and per-address) hourly rate limits and per-user concurrency limits;
* the cap on concurrent Kintone requests (``[kintone] MaxConcurrentRequests`` for all of them
  together: Kintone's 100 concurrent requests are per domain), as leases that expire when an
  instance dies;
* the caps on Kintone cursors (``[kintone] MaxCursors`` and ``MaxCursorsPerUser``: a domain has
  10 cursors), as leases that expire ``CursorIdleTimeout`` after an instance dies;
* what the model is built from: the exposed apps and their ``fields.json`` (a snapshot, see
  ``gateway.service.snapshot``, kept ``[gateway] SchemaCacheTTL`` seconds), so that an instance
  that needs a model builds it without calling Kintone; and the check of the apps' form
  revisions, once per ``SchemaCacheTTL`` for all instances: the one whose claim is granted
  reads Kintone and stores the snapshot, the others compare it with what they built from;
* the model cache's invalidation: ``SchemaVersion.invalidate`` drops the snapshots and bumps a
  version that every instance checks before its requests (at most every
  ``SchemaCheckSeconds``), so that every instance reads Kintone again; the checking instance
  bumps it when it finds a form changed, so that every instance rebuilds its model at once
  (from the snapshot it stored);
* short-lived values such as idempotency keys, through ``key_value_store``;
* the triggers' subscriptions, delivery queue and keys (``gateway.triggers.redis_store``),
  through ``shared_redis``.

Without the setting nothing is shared and the in-process defaults stay.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

from ..model import ModelCache
from ..odata.errors import Answer, ODataError, retry_after
from ..service.snapshot import snapshot_scope
from ..settings import Secret, Settings
from .gcra import RedisGcra
from .kvstore import KeyValueStore, MemoryStore, Quotas, RedisStore
from .leases import LeaseSlots, SharedSemaphore, SharedUserSlots
from .snapshots import RedisSchemaStore

log = logging.getLogger("gateway.ops")
SECTION = "Cluster"
KINTONE_SLOTS = "kintone"
_TIMEOUT = 5.0  # seconds for one Redis command: a stuck Redis must not hang every request


@dataclass(frozen=True)
class ClusterSettings:
    redis_url: Secret | None  # may hold a password
    prefix: str  # of every key, so that one Redis can serve several gateways
    lease_seconds: float
    schema_check_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ClusterSettings:
        section = settings.section(SECTION)
        url = section.get_secret("Redis")
        if url is not None and urlsplit(url.reveal()).scheme not in ("redis", "rediss", "unix"):
            raise section.error("Redis", "must be a redis://, rediss:// or unix:// URL")
        # One Kintone domain, one cap: gateways in front of the same domain share it.
        default_prefix = f"kintone-gateway:{urlsplit(settings.kintone.url).hostname}:"
        return cls(url, section.get("KeyPrefix", default_prefix) or default_prefix,
                   section.get_float("LeaseSeconds", 30, minimum=1, maximum=3600),
                   section.get_float("SchemaCheckSeconds", 2, minimum=0, maximum=3600))


@functools.cache
def redis_client(url: str) -> redis.Redis:
    """One connection pool per process and URL (redis-py opens new connections after a fork)."""
    return redis.Redis.from_url(url, socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT,
                                health_check_interval=30)


def shared_redis(settings: Settings, namespace: str) -> tuple[redis.Redis, str] | None:
    """The cluster's Redis and the prefix of ``namespace``'s keys in it; None when the gateway
    is not clustered."""
    config = ClusterSettings.from_settings(settings)
    if config.redis_url is None:
        return None
    return redis_client(config.redis_url.reveal()), f"{config.prefix}{namespace}:"


def key_value_store(settings: Settings, namespace: str, *, capacity: int = 10_000,
                    quotas: Quotas | None = None) -> KeyValueStore:
    """Where to keep ``namespace``'s values: Redis (bounded by ``quotas``) when the gateway is
    clustered, else memory (at most ``capacity`` keys)."""
    shared = shared_redis(settings, namespace)
    return MemoryStore(capacity) if shared is None else RedisStore(*shared, quotas or Quotas())


def schema_store(settings: Settings) -> RedisSchemaStore | None:
    """Where the model's snapshot is shared; None when the gateway is not clustered, or when
    ``SchemaCacheTTL`` is 0 (a model checked at every request has nothing to share)."""
    shared = shared_redis(settings, "")
    ttl = settings.gateway.schema_cache_ttl
    if shared is None or ttl <= 0:
        return None
    return RedisSchemaStore(*shared, snapshot_scope(settings.kintone), ttl)


class SchemaVersion:
    """The model cache's invalidations, told to every instance through a counter in Redis."""

    def __init__(self, client: redis.Redis, key: str, models: ModelCache,
                 check_every: float, clock: Callable[[], float] = time.monotonic,
                 snapshots: RedisSchemaStore | None = None) -> None:
        self._client = client
        self._key = key
        self._models = models
        self._snapshots = snapshots
        self._check_every = check_every
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: int | None = None  # None until the first request: no model exists before
        self._next_check = float("-inf")
        models.when_changed(self._tell_others)

    def invalidate(self) -> None:
        """Make every instance read the apps' fields again, from Kintone."""
        if self._snapshots is not None:  # first, or this instance could load the old one again
            self._snapshots.drop()
        self._models.invalidate()
        self._tell_others()

    def _tell_others(self) -> None:
        """This instance rebuilds its model; the others once they see the new version."""
        self._seen = self._client.incr(self._key)  # so that this instance does not do it twice

    def sync(self) -> None:
        """Invalidate this instance's cache if another one asked for it (a request hook)."""
        with self._lock:
            now = self._clock()
            if now < self._next_check:
                return
            self._next_check = now + self._check_every
        version = int(self._client.get(self._key) or 0)
        if self._seen is not None and version != self._seen:
            self._models.invalidate()
        self._seen = version


@dataclass(frozen=True)
class Cluster:
    client: redis.Redis
    slots: LeaseSlots
    cursor_slots: LeaseSlots  # leases as long as [kintone] CursorIdleTimeout
    schema: SchemaVersion
    rates: RedisGcra  # the hourly rate limits' backend
    user_slots: SharedUserSlots  # the per-user concurrency limits' backend
    kintone_slots: SharedSemaphore  # the cap on concurrent Kintone requests

    def ping(self) -> None:
        self.client.ping()

    def close(self) -> None:
        """Stop renewing this instance's leases (those still held then expire)."""
        self.slots.close()
        self.cursor_slots.close()


def connect(settings: Settings, models: ModelCache,
            snapshots: RedisSchemaStore | None = None) -> Cluster | None:
    """The state shared in Redis, when ``[Cluster] Redis`` is set (``create_app`` hands its
    backends to the guard and the Kintone client; ``snapshots``: the ``models``' store)."""
    config = ClusterSettings.from_settings(settings)
    if config.redis_url is None:
        return None
    shared = redis_client(config.redis_url.reveal())
    slots = LeaseSlots(shared, f"{config.prefix}slots:", config.lease_seconds)
    cursor_slots = LeaseSlots(shared, f"{config.prefix}slots:",
                              settings.kintone.cursor_idle_timeout)
    schema = SchemaVersion(shared, f"{config.prefix}schema-version", models,
                           config.schema_check_seconds, snapshots=snapshots)
    return Cluster(shared, slots, cursor_slots, schema, RedisGcra(shared, config.prefix),
                   SharedUserSlots(slots),
                   SharedSemaphore(slots, KINTONE_SLOTS, settings.kintone.max_concurrent_requests))


def unavailable(error: redis.RedisError) -> Answer:
    """The app's answer to a failed Redis command."""
    log.warning("Redis failed: %s", error)  # its messages name the host, never the password
    return ODataError.of("ClusterUnavailable", headers=retry_after(5)).reply()
