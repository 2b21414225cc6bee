"""Each delivery attempt is published on the event stream with its outcome (what the metrics
count as ``gateway_trigger_deliveries``), and never with the callback's signed URL."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from gateway.events import DeliveryTried, Stream
from gateway.security.ipallow import AddressList
from gateway.triggers.config import TriggerSettings
from gateway.triggers.queue import DeliveryWorker
from gateway.triggers.sqlite import SqliteStore
from gateway.triggers.store import Subscription
from tests.triggers.conftest import Receiver

LOOPBACK = AddressList.parse(["127.0.0.1"])


@pytest.fixture()
def store() -> Iterator[SqliteStore]:
    db = SqliteStore(":memory:")
    yield db
    db.close()


def tried_after(store: SqliteStore, callback: str, count: int, **config) -> list[DeliveryTried]:
    """The attempts published once ``count`` of them were, delivering one notification to
    ``callback``."""
    events = Stream()
    tried: list[DeliveryTried] = []
    events.subscribe(DeliveryTried, tried.append)
    store.add(Subscription("s1", 7, "Orders", "ADD_RECORD", callback, "owner"))
    assert store.enqueue("e1", [("s1", b'{"n": 1}')], time.time())
    worker = DeliveryWorker(store, TriggerSettings(**{"retry_seconds": 0.05,
                                                      "max_retry_seconds": 0.1, **config}),
                            events=events)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while len(tried) < count and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop()
    return tried


def test_a_delivered_notification_is_one_attempt(store):
    receiver = Receiver()
    try:
        tried = tried_after(store, receiver.url, 1, callback_allowed=LOOPBACK)
    finally:
        receiver.down()
    assert tried == [DeliveryTried("delivered", 1, None)]


def test_failed_attempts_are_retried_then_given_up(store):
    receiver = Receiver()
    receiver.down()  # connections refused
    tried = tried_after(store, receiver.url, 2, callback_allowed=LOOPBACK, max_attempts=2)
    assert [(t.outcome, t.attempt) for t in tried] == [("retry", 1), ("dead", 2)]
    assert all(t.error and "secret-signature" not in t.error for t in tried)
