"""Where subscriptions and pending deliveries live: the interfaces the webhooks and the delivery
worker use, so that the shared backend (``redis_store.RedisTriggerStore``, with ``[Cluster]
Redis``) can replace the SQLite one (``sqlite.SqliteStore``) without either of them changing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Subscription:
    """A callback to POST one event of one app to (a Power Automate webhook trigger)."""

    id: str
    app: int
    entity_set: str  # as named when subscribing; shown to the admin
    event: str  # Kintone's event type, e.g. ADD_RECORD
    callback: str = field(repr=False)  # holds the platform's signature: a secret
    owner: str  # the gateway user who subscribed


@dataclass(frozen=True)
class Delivery:
    """One event body on its way to one subscription's callback."""

    id: int
    subscription: str
    callback: str = field(repr=False)
    body: bytes = field(repr=False)
    attempts: int  # made so far
    owner: str = ""  # the subscription's
    entity_set: str = ""
    event: str = ""


@dataclass(frozen=True)
class DeadLetter:
    """A delivery given up after its last attempt."""

    id: int
    subscription: str
    entity_set: str
    event: str
    callback: str = field(repr=False)
    body: bytes = field(repr=False)
    attempts: int
    error: str
    failed_at: float  # seconds since the epoch


class SubscriptionStore(Protocol):
    def add(self, subscription: Subscription) -> None: ...

    def get(self, subscription_id: str) -> Subscription | None: ...

    def remove(self, subscription_id: str) -> bool:
        """Forget the subscription and its pending deliveries; False when there was none."""

    def matching(self, app: int, event: str) -> list[Subscription]: ...

    def all(self) -> list[Subscription]:
        """Every subscription, in no particular order."""


class DeliveryQueue(Protocol):
    def enqueue(self, event_id: str, deliveries: Sequence[tuple[str, bytes]], now: float
                ) -> bool:
        """Queue ``(subscription id, body)`` pairs for one Kintone notification, all or none;
        False (nothing queued) when that notification was queued before."""

    def claim(self, now: float, lease: float) -> Delivery | None:
        """A due delivery, hidden from other workers for ``lease`` seconds: a worker that dies
        holding it only delays it."""

    def next_due(self) -> float | None:
        """When the earliest pending delivery is due (None: there is none)."""

    def depth(self) -> int:
        """How many deliveries are pending (leased ones included)."""

    def delivered(self, delivery_id: int) -> None: ...

    def retry(self, delivery_id: int, due: float) -> None: ...

    def postpone(self, delivery_id: int, due: float) -> None:
        """Due again at ``due``, with no attempt counted."""

    def bury(self, delivery_id: int, error: str, now: float) -> None:
        """Move the delivery to the dead letters."""

    def dead_letters(self, limit: int) -> list[DeadLetter]:
        """The most recent ``limit`` dead letters, newest first."""


class KeyStore(Protocol):
    def key(self, name: str) -> bytes:
        """A random key made once and kept for every later call (and instance)."""


class TriggerStore(SubscriptionStore, DeliveryQueue, KeyStore, Protocol):
    """The three in one backend, as ``register`` builds it."""

    def close(self) -> None: ...
