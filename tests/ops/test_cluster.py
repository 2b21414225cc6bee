"""Two gateway instances on their own ports sharing one real Redis (``[Cluster] Redis``): the
limits and caches behave as for one instance."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from gateway.ops.cluster import key_value_store
from gateway.ops.kvstore import MemoryStore
from gateway.ops.leases import LeaseSlots
from gateway.sandbox import Sandbox
from gateway.sandbox.state import Faults
from tests.kintone_http import Kintone
from tests.ops.conftest import free_port, settings_for

SET = "OPS"


def test_a_users_hourly_limit_holds_across_instances(server, redis_url, start_instance,
                                                     ops_app):
    settings, token = settings_for(server.url, (ops_app,), cluster={"Redis": redis_url},
                                   security={"RequestsPerHour": "4"})
    first, second = start_instance(settings, token), start_instance(settings, token)
    statuses = [gw.get("/api.rsc/").status_code for gw in (first, second, first, second)]
    assert statuses == [200] * 4
    refused = second.get("/api.rsc/")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "TooManyRequests"
    assert int(refused.headers["Retry-After"]) > 0
    assert first.get("/api.rsc/").status_code == 429
    shared = redis.Redis.from_url(redis_url)  # the counters live there
    assert shared.keys("*rate:user ops")


def test_without_redis_each_instance_counts_alone(server, start_instance, ops_app):
    settings, token = settings_for(server.url, (ops_app,), security={"RequestsPerHour": "2"})
    first, second = start_instance(settings, token), start_instance(settings, token)
    assert [gw.get("/api.rsc/").status_code for gw in (first, first, second, second)] == [200] * 4


def test_a_users_concurrency_limit_holds_across_instances(server, redis_url, start_instance,
                                                          ops_app, sandbox: Sandbox):
    settings, token = settings_for(server.url, (ops_app,), cluster={"Redis": redis_url},
                                   security={"MaxConcurrent": "1"})
    first, second = start_instance(settings, token), start_instance(settings, token)
    first.get("/api.rsc/")  # the model is read before the sandbox slows down
    sandbox.faults = Faults(latency_ms=600)
    try:
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(first.get, f"/api.rsc/{SET}")
            time.sleep(0.2)
            refused = second.get(f"/api.rsc/{SET}")
            assert slow.result().status_code == 200
    finally:
        sandbox.faults = Faults()
    assert refused.status_code == 429
    assert "already has 1 requests running" in refused.json()["error"]["message"]
    assert second.get(f"/api.rsc/{SET}").status_code == 200  # the slot came back


def test_the_kintone_request_cap_holds_across_instances(server, redis_url, start_instance,
                                                        ops_app, sandbox: Sandbox, monkeypatch):
    """Each instance alone may send 3 requests at once; together they still send at most 3,
    as the sandbox's X-ConcurrencyLimit-Running count (taken as each request arrives) shows."""
    settings, token = settings_for(server.url, (ops_app,), max_concurrent=3,
                                   cluster={"Redis": redis_url})
    instances = [start_instance(settings, token), start_instance(settings, token)]
    for gw in instances:
        assert gw.get(f"/api.rsc/{SET}(1)").status_code == 200  # models read
    running = _record_running(sandbox, monkeypatch)
    sandbox.faults = Faults(latency_ms=150)
    try:
        with ThreadPoolExecutor(16) as pool:
            replies = list(pool.map(lambda n: instances[n % 2].get(f"/api.rsc/{SET}(1)"),
                                    range(16)))
    finally:
        sandbox.faults = Faults()
    assert [reply.status_code for reply in replies] == [200] * 16
    assert max(running) == 3, running


def _record_running(sandbox: Sandbox, monkeypatch) -> list[int]:
    seen: list[int] = []
    enter = sandbox.inflight.enter

    def recording() -> int:
        count = enter()
        seen.append(count)
        return count

    monkeypatch.setattr(sandbox.inflight, "enter", recording)
    return seen


def test_a_schema_invalidation_on_one_instance_reaches_the_other(server, redis_url,
                                                                 start_instance, admin: Kintone):
    app = admin.make_app({"title": {"type": "SINGLE_LINE_TEXT", "code": "title",
                                    "label": "Title"}}, name="Ops schema")
    settings, token = settings_for(server.url, (app,), cluster={"Redis": redis_url,
                                                                 "SchemaCheckSeconds": "0"})
    first, second = start_instance(settings, token), start_instance(settings, token)
    assert "amount" not in second.get("/api.rsc/$metadata").text
    admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": {
        "amount": {"type": "NUMBER", "code": "amount", "label": "Amount"}}})
    admin.ok("POST", "preview/app/deploy", {"apps": [{"app": app}]})
    assert "amount" not in second.get("/api.rsc/$metadata").text  # cached (TTL 300 s)
    first.ops.invalidate_schema()
    assert "amount" in second.get("/api.rsc/$metadata").text
    assert "amount" in first.get("/api.rsc/$metadata").text


def test_a_dead_instances_leases_expire(redis_url):
    client = redis.Redis.from_url(redis_url)
    dead = LeaseSlots(client, "test:", lease_seconds=1)
    assert dead.acquire("kintone", 2) and dead.acquire("kintone", 2)
    dead.close()  # it stops renewing, as a killed worker would, without releasing
    alive = LeaseSlots(client, "test:", lease_seconds=1)
    try:
        assert alive.acquire("kintone", 2) is None
        time.sleep(1.2)
        assert alive.acquire("kintone", 2) is not None
    finally:
        alive.close()


def test_leases_held_longer_than_their_time_are_renewed(redis_url):
    client = redis.Redis.from_url(redis_url)
    holder, other = (LeaseSlots(client, "test:", lease_seconds=0.6) for _ in range(2))
    try:
        lease = holder.acquire("kintone", 1)
        assert lease is not None
        time.sleep(1.5)  # well past the lease time: the holder's renewer kept it
        assert other.acquire("kintone", 1) is None
        holder.release(lease)
        assert other.acquire("kintone", 1) is not None
    finally:
        holder.close()
        other.close()


def test_idempotency_keys_are_claimed_once_across_instances(redis_url):
    settings, _ = settings_for("http://kintone.example", cluster={"Redis": redis_url})
    stores = [key_value_store(settings, "idempotency") for _ in range(2)]
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        barrier.wait()
        results.append(stores[n % 2].add("alice:key-1", b"running", ttl=60))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    stores[0].put("alice:key-1", b"reply", ttl=60)
    assert stores[1].get("alice:key-1") == b"reply"
    stores[1].delete("alice:key-1")
    assert stores[0].get("alice:key-1") is None
    assert stores[0].add("short", b"v", ttl=0.05) and stores[0].get("short") == b"v"
    time.sleep(0.1)
    assert stores[1].get("short") is None


def test_without_redis_values_stay_in_memory():
    settings, _ = settings_for("http://kintone.example")
    store = key_value_store(settings, "idempotency", capacity=2)
    assert isinstance(store, MemoryStore)
    assert store.add("a", b"1", ttl=60) and not store.add("a", b"2", ttl=60)
    store.put("b", b"2", ttl=60)
    store.put("c", b"3", ttl=60)  # over capacity: the oldest goes
    assert (store.get("a"), store.get("b"), store.get("c")) == (None, b"2", b"3")


@pytest.mark.skip(reason="no shared trigger store yet: webhook subscriptions, trigger state and "
                         "the delivery queue (gateway/triggers, in progress) are kept in SQLite "
                         "per instance; with [Cluster] Redis they must move to a Redis store "
                         "(gateway.ops.cluster), then one instance's subscription is served by "
                         "the other")
def test_a_webhook_subscription_made_on_one_instance_is_served_by_the_other():
    raise AssertionError("not reached")


def test_redis_going_away_is_a_503_not_a_trace(server, start_instance, ops_app):
    settings, token = settings_for(server.url, (ops_app,),
                                   cluster={"Redis": f"redis://127.0.0.1:{free_port()}/0"})
    gw = start_instance(settings, token)
    reply = gw.get("/api.rsc/")
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "ClusterUnavailable"
    assert requests.get(gw.origin + "/readyz", timeout=30).json()["error"]["details"][-1][
        "code"] == "RedisUnreachable"
