"""The idempotency store's bounds: callers apart, expiry, capacity, a request still running."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from werkzeug.datastructures import Headers

from gateway.odata.errors import ODataError
from gateway.writes.exchange import Reply, WriteRequest
from gateway.writes.idempotency import IdempotencyStore


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def post(key: str, body: bytes = b"{}") -> WriteRequest:
    return WriteRequest("POST", "Orders", Headers({"Idempotency-Key": key}), body,
                        "http://gw/api.rsc")


def counting() -> tuple[list[int], Callable[[], Reply]]:
    calls: list[int] = []

    def handle() -> Reply:
        calls.append(1)
        return Reply(201, {"n": len(calls)})

    return calls, handle


def test_callers_are_kept_apart_and_entries_expire():
    clock = Clock()
    store = IdempotencyStore(ttl=60, clock=clock)
    _, handle = counting()
    assert store.run(post("k"), "alice", handle).body == {"n": 1}
    assert store.run(post("k"), "alice", handle).headers["Idempotent-Replayed"] == "true"
    assert store.run(post("k"), "bob", handle).body == {"n": 2}
    clock.now = 61
    assert store.run(post("k"), "alice", handle).body == {"n": 3}


def test_capacity_drops_the_oldest_keys():
    store = IdempotencyStore(capacity=2)
    calls, handle = counting()
    for key in ("a", "b", "c"):
        store.run(post(key), "u", handle)
    store.run(post("a"), "u", handle)
    assert len(calls) == 4


def test_a_key_still_running_and_throttled_answers():
    store = IdempotencyStore()

    def nested() -> Reply:
        with pytest.raises(ODataError) as running:
            store.run(post("k"), "u", nested)
        assert running.value.status == 409
        return Reply(503, {"error": {}})

    store.run(post("k"), "u", nested)
    _, handle = counting()
    assert store.run(post("k"), "u", handle).status == 201  # the 503 was not kept
