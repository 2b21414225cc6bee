"""Two gateway instances on their own ports sharing one real Redis (``[Cluster] Redis``): the
limits, caches, idempotency keys and webhook triggers behave as for one instance."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
import redis
import requests

from gateway.events import KintoneCallMade
from gateway.http.context import EXTENSION as WEB
from gateway.kintone.cursors import CursorPool, CursorsBusy, Lease
from gateway.ops.cluster import key_value_store
from gateway.ops.kvstore import MemoryStore, Quotas
from gateway.ops.leases import LeaseSlots
from gateway.sandbox import Sandbox
from gateway.sandbox.state import Faults
from gateway.security.ipallow import AddressList
from gateway.triggers.config import TriggerSettings
from gateway.triggers.queue import DeliveryWorker
from gateway.triggers.redis_store import RedisTriggerStore
from gateway.triggers.store import Subscription
from tests.kintone_http import Kintone
from tests.ops.conftest import free_port, settings_for
from tests.triggers.conftest import Receiver

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


def test_instances_sharing_redis_hold_at_most_max_cursors_together(server, redis_url,
                                                                   start_instance, ops_app):
    """3 cursors, 2 per user, for both instances together: each alone would allow more."""
    first, second = (instance.client.cursors for instance in _cursor_instances(
        server, redis_url, start_instance, ops_app, "cursors-test:", max_cursors=3,
        max_cursors_per_user=2))

    def lease(pool: CursorPool, user: str) -> Lease:
        pool.owner = lambda: user  # as the web layer tells who reads
        return pool.lease()

    held = [lease(first, "ann"), lease(second, "ann")]
    with pytest.raises(CursorsBusy, match="MaxCursorsPerUser"):
        lease(first, "ann")  # one cursor on this instance, but two in all
    held.append(lease(second, "bob"))
    with pytest.raises(CursorsBusy, match=r"MaxCursors\)"):
        lease(first, "cy")  # this instance holds one of its 3
    second.end(held.pop())
    held.append(lease(first, "cy"))  # a cursor ended on one instance frees it for the other
    for pool, taken in zip((first, second, first), held, strict=True):
        pool.end(taken)
    assert redis.Redis.from_url(redis_url).zcard("cursors-test:slots:cursors") == 0


def test_a_dead_instances_cursors_stop_counting_after_the_idle_timeout(server, redis_url,
                                                                      start_instance, ops_app):
    dead, alive = _cursor_instances(server, redis_url, start_instance, ops_app, "dead-test:",
                                    max_cursors=1, cursor_idle_timeout=1)
    # Busy reading: not given back by the instance's own janitor, as if it were frozen.
    with dead.client.cursors.lease().fetching():
        dead.ops.cluster.close()  # killed: it neither ends its lease nor renews it
        with pytest.raises(CursorsBusy):
            alive.client.cursors.lease()
        time.sleep(1.2)
        alive.client.cursors.end(alive.client.cursors.lease())


def _cursor_instances(server, redis_url, start_instance, ops_app, prefix: str,
                      **kintone: float) -> list:
    """Two instances sharing Redis under ``prefix``, with the cursor ``kintone`` settings."""
    settings, token = settings_for(server.url, (ops_app,),
                                   cluster={"Redis": redis_url, "KeyPrefix": prefix})
    settings = replace(settings, kintone=replace(settings.kintone, **kintone))
    return [start_instance(settings, token) for _ in range(2)]


def test_a_users_flood_of_idempotency_keys_evicts_only_its_own_outcomes(redis_url):
    settings, _ = settings_for("http://kintone.example",
                               cluster={"Redis": redis_url, "KeyPrefix": "quota-test:"})
    quotas = Quotas(keys_per_owner=5, bytes_per_owner=4096, bytes=64 * 1024)
    stores = [key_value_store(settings, "idempotency", quotas=quotas) for _ in range(2)]
    assert stores[0].add("bob/kept", b"running", ttl=60)
    stores[0].put("bob/kept", b"bob's reply", ttl=60)
    assert stores[1].add("eve/in-flight", b"running", ttl=60)  # a request of eve's, running
    for n in range(50):  # eve's flood, through both instances
        stores[n % 2].put(f"eve/{n}", b"x" * 100, ttl=60)
    assert stores[0].get("bob/kept") == b"bob's reply"
    assert stores[1].get("eve/in-flight") == b"running"
    kept = [n for n in range(50) if stores[0].get(f"eve/{n}") is not None]
    assert kept == list(range(45, 50))  # her 5 newest outcomes
    stores[1].put("eve/big", b"y" * 4000, ttl=60)  # over her byte quota: her older ones go
    assert [n for n in range(50) if stores[0].get(f"eve/{n}") is not None] == []
    assert stores[0].get("eve/big") is not None and stores[1].get("bob/kept") is not None
    stores[0].delete("eve/big")
    for n in range(200):  # past the store's 64 KiB, the oldest outcomes of anyone go
        stores[n % 2].put(f"user{n}/k", b"z" * 1000, ttl=60)
    assert stores[0].get("bob/kept") is None and stores[0].get("user199/k") is not None
    assert stores[1].get("eve/in-flight") == b"running"  # claims are never evicted
    shared = redis.Redis.from_url(redis_url)
    assert int(shared.hget("quota-test:idempotency:q:bytes", "all")) <= 64 * 1024


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


def test_a_changed_form_revision_reaches_every_instance_and_an_unchanged_one_costs_no_rebuild(
        server, redis_url, start_instance, admin: Kintone):
    """The first instance checks the apps' form revisions every second (its SchemaCacheTTL);
    the second's model would last 300 s, but it rebuilds as soon as the first finds a change."""
    app = admin.make_app({"title": {"type": "SINGLE_LINE_TEXT", "code": "title",
                                    "label": "Title"}}, name="Ops revisions")
    settings, token = settings_for(server.url, (app,), cluster={"Redis": redis_url,
                                                                 "SchemaCheckSeconds": "0"})
    checking = start_instance(settings, token, schema_cache_ttl=1)
    other = start_instance(settings, token, schema_cache_ttl=300)
    for gw in (checking, other):
        assert "amount" not in gw.get("/api.rsc/$metadata").text
    model = checking.app.extensions[WEB].models.get()
    calls: list[int] = []
    checking.client.events.subscribe(KintoneCallMade, lambda _call: calls.append(1))
    time.sleep(1.1)
    tag = checking.get("/api.rsc/$metadata").headers["ETag"]
    assert calls and checking.app.extensions[WEB].models.get() is model  # checked, not rebuilt
    check = len(calls)  # apps.json and fields.json
    admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": {
        "amount": {"type": "NUMBER", "code": "amount", "label": "Amount"}}})
    admin.ok("POST", "preview/app/deploy", {"apps": [{"app": app}]})
    assert "amount" not in other.get("/api.rsc/$metadata").text  # its model lasts 300 s
    time.sleep(1.1)
    calls.clear()
    changed = checking.get("/api.rsc/$metadata", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and "amount" in changed.text
    assert len(calls) == check  # rebuilt from what the check read
    assert "amount" in other.get("/api.rsc/$metadata").text  # told through Redis


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


HOOKS = {"webhooksecret": "cluster-webhook-secret-0123", "retryseconds": "0.05",
         "maxretryseconds": "0.2", "deliverytimeout": "2", "workers": "2",
         "callbackallowedips": "127.0.0.1"}


@pytest.fixture
def hooked_app(server, sandbox: Sandbox) -> Iterator[int]:
    """An app of its own, in a sandbox minute of its own (Kintone sends at most 60
    notifications a minute)."""
    body = {"name": "Ops hooks", "code": "OPSHOOKS", "fields": {
        "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}}
    response = requests.post(f"{server.url}/__sandbox/apps", json=body, timeout=60)
    assert response.status_code == 200, response.text
    sandbox.clock.set(offset=timedelta(days=400))
    yield response.json()["app"]
    sandbox.clock.set()


def test_a_webhook_subscription_made_on_one_instance_is_served_by_the_other(
        server, redis_url, start_instance, hooked_app, admin: Kintone):
    settings, token = settings_for(server.url, (hooked_app,), cluster={"Redis": redis_url},
                                   triggers={"database": ":memory:", **HOOKS})
    first, second = start_instance(settings, token), start_instance(settings, token)
    receiver = Receiver()
    try:
        made = requests.post(f"{first.origin}/api.rsc/$triggers/OPSHOOKS/webhooks/added",
                             json={"callbackUrl": receiver.url}, timeout=30,
                             headers={"X-Authtoken": token})
        assert made.status_code == 201, made.text
        inbound = f"{second.origin}/api.rsc/$triggers/kintone/@{HOOKS['webhooksecret']}"
        requests.post(f"{server.url}/__sandbox/apps/{hooked_app}/webhooks",
                      json={"url": inbound, "events": ["ADD_RECORD"]},
                      timeout=30).raise_for_status()
        admin.ok("POST", "record", {"app": hooked_app, "record": {"title": {"value": "one"}}})
        (event,) = receiver.wait_for(1)
        assert (event["EntitySet"], event["Record"]["title"]) == ("OPSHOOKS", "one")
        gone = requests.delete(made.headers["Location"].replace(first.origin, second.origin),
                               headers={"X-Authtoken": token}, timeout=30)
        assert gone.status_code == 204
        again = requests.delete(made.headers["Location"], headers={"X-Authtoken": token},
                                timeout=30)
        assert again.status_code == 404  # gone for the first instance too
    finally:
        receiver.down()


def test_the_redis_queue_keeps_a_delivery_across_a_worker_restart(redis_url):
    client = redis.Redis.from_url(redis_url)
    config = TriggerSettings(retry_seconds=0.05, max_retry_seconds=0.2, delivery_timeout=2,
                             workers=1, callback_allowed=AddressList.parse(["127.0.0.1"]))
    receiver = Receiver()
    store = RedisTriggerStore(client, "test:triggers:")
    store.add(Subscription("s1", 7, "Orders", "ADD_RECORD", receiver.url, "ops"))
    assert store.enqueue("kintone-1", [("s1", b'{"n": 1}')], time.time())
    assert not store.enqueue("kintone-1", [("s1", b'{"n": 1}')], time.time())  # a replay
    assert store.claim(time.time(), lease=0.5) is not None  # then the worker died
    worker = DeliveryWorker(RedisTriggerStore(client, "test:triggers:"), config)  # restarted
    worker.start()
    try:
        assert receiver.wait_for(1, timeout=10) == [{"n": 1}]  # once its lease ran out
    finally:
        worker.stop()
        receiver.down()
    assert store.depth() == 0


def test_the_redis_queue_retries_buries_and_forgets(redis_url):
    client = redis.Redis.from_url(redis_url)
    store = RedisTriggerStore(client, "test:triggers:")
    for name in ("s1", "s2"):
        store.add(Subscription(name, 7, "Orders", "ADD_RECORD", f"http://cb/{name}", "ops"))
    assert [s.id for s in store.matching(7, "ADD_RECORD")] == ["s1", "s2"]
    store.enqueue("kintone-1", [("s1", b"one"), ("s2", b"two")], now=100)
    first = store.claim(now=100, lease=30)
    assert (first.subscription, first.body, first.attempts) == ("s1", b"one", 0)
    assert (first.owner, first.entity_set) == ("ops", "Orders")
    store.retry(first.id, due=200)
    assert store.next_due() == 100 and store.depth() == 2
    assert sorted(s.id for s in store.all()) == ["s1", "s2"]
    assert store.remove("s2") and not store.remove("s2")
    assert store.depth() == 1 and store.claim(now=150, lease=30) is None
    retried = store.claim(now=200, lease=30)
    assert (retried.id, retried.attempts) == (first.id, 1)
    store.postpone(retried.id, due=250)  # not an attempt
    assert store.claim(now=240, lease=30) is None
    retried = store.claim(now=250, lease=30)
    assert (retried.id, retried.attempts) == (first.id, 1)
    store.bury(retried.id, "the callback answered 500", now=300)
    (letter,) = store.dead_letters(10)
    assert (letter.subscription, letter.body, letter.attempts, letter.error, letter.failed_at) \
        == ("s1", b"one", 2, "the callback answered 500", 300)
    assert store.depth() == 0 and store.next_due() is None
    assert store.key("state") == RedisTriggerStore(client, "test:triggers:").key("state")


def test_a_retry_on_another_instance_replays_the_first_reply(server, redis_url, start_instance,
                                                              ops_app, admin: Kintone):
    settings, token = settings_for(server.url, (ops_app,), cluster={"Redis": redis_url})
    first, second = start_instance(settings, token), start_instance(settings, token)
    headers = {"X-Authtoken": token, "Idempotency-Key": "cluster-create-1"}
    made = requests.post(f"{first.origin}/api.rsc/{SET}", json={"title": "idempotent"},
                         headers=headers, timeout=30)
    assert made.status_code == 201, made.text
    again = requests.post(f"{second.origin}/api.rsc/{SET}", json={"title": "idempotent"},
                          headers=headers, timeout=30)
    assert (again.status_code, again.json()) == (201, made.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    found = admin.ok("GET", "records", {"app": ops_app, "query": 'title = "idempotent"'})
    assert len(found["records"]) == 1


def test_redis_going_away_is_a_503_not_a_trace(server, start_instance, ops_app):
    settings, token = settings_for(server.url, (ops_app,),
                                   cluster={"Redis": f"redis://127.0.0.1:{free_port()}/0"})
    gw = start_instance(settings, token)
    reply = gw.get("/api.rsc/")
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "ClusterUnavailable"
    assert requests.get(gw.origin + "/readyz", timeout=30).json()["error"]["details"][-1][
        "code"] == "RedisUnreachable"
