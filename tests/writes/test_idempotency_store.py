"""The idempotency store's bounds: callers apart, expiry, capacity, a request still running."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable

import pytest
from werkzeug.datastructures import Headers

from gateway.odata.errors import ODataError
from gateway.ops.kvstore import LocalStore, Quotas
from gateway.writes.exchange import Reply, Streamed, WriteRequest
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


# -- the local store (issue 13 A6): a file that outlives the process, with quotas -----------


def local(path, **quotas: int) -> IdempotencyStore:
    return IdempotencyStore(keys=LocalStore(str(path), Quotas(**quotas)), reply_bytes=4096)


_KILLED_WORKER = """
import os, signal, sys
from werkzeug.datastructures import Headers
from gateway.ops.kvstore import LocalStore
from gateway.writes.exchange import Reply, WriteRequest
from gateway.writes.idempotency import IdempotencyStore

store = IdempotencyStore(keys=LocalStore(sys.argv[1]))
def post(key):
    return WriteRequest("POST", "Orders", Headers({"Idempotency-Key": key}), b"{}",
                        "http://gw/api.rsc")
store.run(post("done"), "u", lambda: Reply(201, {"n": 1}))
store.run(post("midway"), "u", lambda: os.kill(os.getpid(), signal.SIGKILL))
"""


def test_keys_survive_a_restart_and_a_request_killed_midway_is_not_run_again(tmp_path):
    """A worker killed (SIGKILL) while its write was in flight: the retry, served by the
    restarted gateway, is neither run again nor forgotten."""
    database = tmp_path / "idempotency.sqlite"
    worker = subprocess.run([sys.executable, "-c", _KILLED_WORKER, str(database)],
                            capture_output=True, text=True, timeout=60)
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    restarted = local(database)
    calls, handle = counting()
    replay = restarted.run(post("done"), "u", handle)
    assert (replay.body, replay.headers["Idempotent-Replayed"]) == ({"n": 1}, "true")
    with pytest.raises(ODataError) as running:
        restarted.run(post("midway"), "u", handle)
    assert (running.value.status, running.value.code) == (409, "IdempotencyKeyInUse")
    assert calls == []


def test_one_users_flood_evicts_only_that_users_keys(tmp_path):
    store = local(tmp_path / "keys.sqlite", keys_per_owner=5)
    calls, handle = counting()
    store.run(post("kept"), "bob", handle)
    for n in range(50):
        store.run(post(f"k{n}"), "mallory", handle)
    assert store.run(post("kept"), "bob", handle).headers["Idempotent-Replayed"] == "true"
    assert store.run(post("k49"), "mallory", handle).headers["Idempotent-Replayed"] == "true"
    store.run(post("k0"), "mallory", handle)
    assert len(calls) == 52  # mallory's oldest key was gone: run again


def test_a_key_in_flight_is_never_evicted(tmp_path):
    store = local(tmp_path / "keys.sqlite", keys_per_owner=3)
    _, handle = counting()

    def flood_while_running() -> Reply:
        for n in range(20):
            store.run(post(f"k{n}"), "u", handle)
        with pytest.raises(ODataError) as running:
            store.run(post("slow"), "u", handle)
        assert running.value.status == 409
        return Reply(201, {"n": "slow"})

    assert store.run(post("slow"), "u", flood_while_running).body == {"n": "slow"}


def test_large_replies_are_kept_as_their_outcome_within_the_byte_budget(tmp_path):
    database = tmp_path / "keys.sqlite"
    store = local(database, bytes_per_owner=64 * 1024)
    big = {"responses": [{"id": str(n), "status": 200, "headers": {"Location": f"x({n})"},
                          "body": {"value": ["v" * 1000] * 100}} for n in range(10)]}
    calls: list[int] = []

    def batch() -> Reply:
        calls.append(1)
        return Reply(200, big)

    for n in range(20):
        assert store.run(post(f"b{n}"), "u", batch).body == big
    replay = store.run(post("b19"), "u", batch)
    assert replay.headers["Idempotent-Reply"] == "outcome"
    assert replay.body["responses"][3] == {"id": "3", "status": 200,
                                           "headers": {"Location": "x(3)"}}
    assert len(calls) == 20
    assert database.stat().st_size < 1024 * 1024


def test_a_streamed_reply_is_kept_once_sent_and_not_when_cut_short():
    store = IdempotencyStore(reply_bytes=1024)
    calls: list[int] = []

    def streamed(size: int) -> Callable[[], Reply]:
        def handle() -> Reply:
            calls.append(1)
            return Reply(200, iter([b"x" * 100] * size))
        return handle

    small = store.run(post("small"), "u", streamed(3))
    assert b"".join(small.body) == b"x" * 300
    replay = store.run(post("small"), "u", streamed(3))
    assert replay.body == b"x" * 300 and replay.headers["Idempotent-Replayed"] == "true"

    big = store.run(post("big"), "u", streamed(30))
    assert len(b"".join(big.body)) == 3000
    outcome = store.run(post("big"), "u", streamed(30))
    assert outcome.status == 200 and outcome.body is None
    assert outcome.headers["Idempotent-Reply"] == "outcome"

    cut = store.run(post("cut"), "u", streamed(3))
    next(cut.body)
    cut.body.close()  # the client left
    again = store.run(post("cut"), "u", streamed(3))
    assert "Idempotent-Replayed" not in again.headers and b"".join(again.body) == b"x" * 300
    assert len(calls) == 4


def test_a_large_streamed_batch_is_kept_as_each_responses_outcome():
    store = IdempotencyStore(reply_bytes=1024)
    outcome = {"responses": [{"id": "1", "status": 201, "headers": {"Location": "x(1)"}}]}

    def batch() -> Reply:
        return Reply(200, Streamed(iter([b"y" * 600] * 3), outcome))

    assert len(b"".join(store.run(post("batch"), "u", batch).body)) == 1800
    replay = store.run(post("batch"), "u", batch)
    assert replay.body == outcome and replay.headers["Idempotent-Reply"] == "outcome"
