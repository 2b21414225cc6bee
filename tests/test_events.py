"""The observation stream (``gateway.events``): who receives what, in which order, and what a
failing subscriber does (nothing to the publisher)."""

from __future__ import annotations

import logging
import threading

import pytest

from gateway.events import (
    DeliveryTried,
    Event,
    KintoneCallFailed,
    KintoneCallMade,
    RequestRefused,
    Stream,
)

CALL = KintoneCallMade("GET", "records")
REFUSED = RequestRefused("hourly", 429)


def test_a_subscriber_receives_the_events_of_its_kind_only():
    stream = Stream()
    calls: list[KintoneCallMade] = []
    refusals: list[RequestRefused] = []
    stream.subscribe(KintoneCallMade, calls.append)
    stream.subscribe(RequestRefused, refusals.append)
    stream.publish(CALL)
    stream.publish(REFUSED)
    stream.publish(CALL)
    assert (calls, refusals) == ([CALL, CALL], [REFUSED])


def test_subscribing_to_event_receives_every_kind():
    stream = Stream()
    seen: list[Event] = []
    stream.subscribe(Event, seen.append)
    delivery = DeliveryTried("delivered", 1, None)
    for event in (CALL, REFUSED, delivery):
        stream.publish(event)
    assert seen == [CALL, REFUSED, delivery]


def test_subscribers_are_called_in_the_order_they_subscribed():
    stream = Stream()
    order: list[str] = []
    stream.subscribe(KintoneCallMade, lambda _call: order.append("first"))
    stream.subscribe(Event, lambda _event: order.append("any"))
    stream.subscribe(KintoneCallMade, lambda _call: order.append("last"))
    stream.publish(CALL)
    assert order == ["first", "any", "last"]


def test_a_subscriber_added_later_receives_the_next_events():
    stream = Stream()
    stream.publish(CALL)  # nobody listens yet: nothing happens
    seen: list[KintoneCallMade] = []
    stream.subscribe(KintoneCallMade, seen.append)
    stream.publish(CALL)
    assert seen == [CALL]


def test_a_failing_subscriber_is_logged_and_the_others_still_run(caplog):
    stream = Stream()
    seen: list[KintoneCallMade] = []

    def broken(_call: KintoneCallMade) -> None:
        raise RuntimeError("a broken counter")

    stream.subscribe(KintoneCallMade, broken)
    stream.subscribe(KintoneCallMade, seen.append)
    with caplog.at_level(logging.ERROR, "gateway.events"):
        stream.publish(CALL)  # does not raise
    assert seen == [CALL]
    (record,) = caplog.records
    assert "KintoneCallMade" in record.getMessage()
    assert record.exc_info is not None and "a broken counter" in str(record.exc_info[1])


def test_publishing_from_many_threads_loses_no_event():
    stream = Stream()
    counted: list[int] = []
    lock = threading.Lock()

    def count(_call: KintoneCallMade) -> None:
        with lock:
            counted.append(1)

    stream.subscribe(KintoneCallMade, count)

    def publish() -> None:
        for _ in range(1000):
            stream.publish(CALL)

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counted) == 4000


def test_events_are_plain_frozen_values():
    failed = KintoneCallFailed("GET", "records", 429, "GAIA_TO04", "id-1",
                               "429 GAIA_TO04: busy", throttled=True, retried=True)
    assert failed == KintoneCallFailed("GET", "records", 429, "GAIA_TO04", "id-1",
                                       "429 GAIA_TO04: busy", True, True)
    with pytest.raises(AttributeError):
        failed.status = 500  # type: ignore[misc]
