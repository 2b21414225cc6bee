"""One stream of what happened in the gateway, for whoever counts or records it.

Publishers (the Kintone client, the security guard, the trigger delivery worker) say what
happened as a small typed event; subscribers (metrics, the audit log's per-request counts, the
logs, the console) each take the kinds they care about. Neither side knows the other, so this
module imports nothing of the gateway: every layer may import it.

``publish`` calls the subscribers at once, in the publisher's thread and in the order they
subscribed: a subscriber may read the request being served (its Flask context, its request id).
A subscriber that raises is logged and skipped; the publisher never sees it, since counting must
not fail a request. Publishing is one dict look-up when nobody listens and a loop over a tuple
otherwise, cheap enough for the export path's thousands of Kintone calls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

log = logging.getLogger("gateway.events")


class Event:
    """The base of every event: subscribing to ``Event`` receives them all."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class KintoneCallMade(Event):
    """One HTTP call to Kintone is about to be sent (each retry is one more)."""

    method: str  # as sent: a long GET goes as POST
    api: str  # e.g. "records/cursor"


@dataclass(frozen=True, slots=True)
class KintoneCallEnded(Event):
    """One HTTP call to Kintone came back, answered or failed (``time.monotonic`` seconds:
    waiting for a slot of the concurrency cap included)."""

    method: str
    api: str
    started: float
    ended: float


@dataclass(frozen=True, slots=True)
class KintoneCallFailed(Event):
    """A Kintone call failed: Kintone's answer, or no answer (``status`` 503)."""

    method: str
    api: str
    status: int
    code: str | None  # Kintone's error code, when its answer had one
    error_id: str | None  # Kintone's id of the error, which Cybozu's support asks for
    message: str  # the error as the gateway words it: status, code and Kintone's message
    throttled: bool  # Kintone said too many requests (429)
    retried: bool  # the call is sent again (then a KintoneCallRetried follows)


@dataclass(frozen=True, slots=True)
class KintoneCallRetried(Event):
    """A failed Kintone call will be sent again after ``wait`` seconds."""

    method: str
    api: str
    attempt: int  # 1 for the first retry
    wait: float


# Why the gateway refused a request before serving it: its own rate limits (``hourly``, per
# user or per address; ``concurrent``, per user), the address allowlist, the body's size, CORS,
# credentials, or a method the user has no right to anywhere.
RefusalReason = Literal["hourly", "concurrent", "address", "body", "origin", "credentials",
                        "method"]
RATE_LIMITS: frozenset[RefusalReason] = frozenset({"hourly", "concurrent"})


@dataclass(frozen=True, slots=True)
class RequestRefused(Event):
    """The security guard refused a request."""

    reason: RefusalReason
    status: int  # the HTTP status of the refusal


@dataclass(frozen=True, slots=True)
class RequestServed(Event):
    """A request's audit line, once its last byte went (or it was abandoned): the fields of
    ``gateway.security.audit.Entry``."""

    time: str  # UTC, when the request arrived
    method: str
    path: str  # with its query, any URL authtoken masked
    client_ip: str | None
    user: str | None
    status: int | None
    bytes: int
    duration_ms: float
    kintone_calls: int


DeliveryOutcome = Literal["delivered", "retry", "dead"]


@dataclass(frozen=True, slots=True)
class DeliveryTried(Event):
    """One attempt to POST a trigger notification to its subscriber's callback."""

    outcome: DeliveryOutcome  # "retry": failed, sent again later; "dead": failed for good
    attempt: int  # 1 for the first
    error: str | None  # why it failed (never the callback's URL, which carries a signature)


E = TypeVar("E", bound=Event)
Subscriber = Callable[[E], None]


class Stream:
    """Where events are published and subscribed to; one per gateway app."""

    def __init__(self) -> None:
        # Taken to subscribe, and to publish the first event of a kind after that; other
        # publications read without it.
        self._lock = threading.Lock()
        self._subscribed: list[tuple[type[Event], Callable[[Event], None]]] = []
        # Subscribers by concrete event class, built on first publication; replaced as a whole
        # (never changed in place) so that a publishing thread needs no lock.
        self._by_kind: dict[type[Event], tuple[Callable[[Event], None], ...]] = {}

    def subscribe(self, kind: type[E], subscriber: Subscriber[E]) -> None:
        """Call ``subscriber`` with every published event of ``kind`` (or of a subclass)."""
        with self._lock:
            self._subscribed.append((kind, subscriber))  # type: ignore[arg-type]
            self._by_kind = {}

    def publish(self, event: Event) -> None:
        subscribers = self._by_kind.get(type(event))
        if subscribers is None:
            subscribers = self._resolve(type(event))
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("A subscriber of %s failed", type(event).__name__)

    def _resolve(self, kind: type[Event]) -> tuple[Callable[[Event], None], ...]:
        with self._lock:
            subscribers = tuple(subscriber for wanted, subscriber in self._subscribed
                                if issubclass(kind, wanted))
            self._by_kind = {**self._by_kind, kind: subscribers}
        return subscribers
