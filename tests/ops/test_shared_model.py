"""Gateway instances sharing one Redis share what their model is built from (the exposed apps,
their fields.json, the guest-space routes) and the check of whether it changed: the Kintone
calls a model costs are paid once for the cluster, not once per instance."""

from __future__ import annotations

import logging
import time

import pytest
import redis
import requests

from gateway.events import KintoneCallMade
from gateway.http.context import EXTENSION as WEB
from gateway.kintone import KintoneClient
from gateway.ops.cluster import schema_store
from gateway.sandbox import SandboxServer
from gateway.service import model_cache
from tests.conftest import ADMIN
from tests.kintone_http import Kintone
from tests.ops.conftest import FAST_RETRY, Instance, free_port, settings_for

FIELDS = "app/form/fields"
MODEL_CALLS = {"apps", "app", "space", FIELDS}  # what reading a model costs
TITLE = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
AMOUNT = {"amount": {"type": "NUMBER", "code": "amount", "label": "Amount"}}
# SchemaCacheTTL of the tests that wait for checks: the requests made right after one claimed
# the check must fall within its claim, even on a busy machine.
TTL = 2


def calls_of(client: KintoneClient) -> list[str]:
    """The Kintone APIs ``client`` calls from now on, in order."""
    seen: list[str] = []
    client.events.subscribe(KintoneCallMade, lambda call: seen.append(call.api))
    return seen


def model_of(instance: Instance) -> object:
    return instance.app.extensions[WEB].models.get()


@pytest.fixture(scope="module")
def guest_app(server: SandboxServer) -> int:
    """An app of a guest space (called on that space's path only), with one record."""
    def made(path: str, body: dict) -> dict:
        response = requests.post(f"{server.url}/__sandbox/{path}", json=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    space = made("spaces", {"name": "Shared model guests", "isGuest": True,
                            "creator": ADMIN[0]})["id"]
    return made("apps", {"name": "Shared guest", "code": "SHAREDGUEST", "space": space,
                         "fields": TITLE, "records": [{"title": {"value": "hello"}}]})["app"]


def test_an_instance_builds_its_model_from_the_snapshot_of_another_without_kintone(
        server, redis_url, start_instance, ops_app, guest_app):
    settings, token = settings_for(server.url, (ops_app, guest_app),
                                   cluster={"Redis": redis_url})
    first, second = start_instance(settings, token), start_instance(settings, token)
    first_calls = calls_of(first.client)
    assert first.get("/api.rsc/$metadata").status_code == 200
    assert first_calls.count(FIELDS) == 2  # it read Kintone, and kept what it read
    second_calls = calls_of(second.client)
    metadata = second.get("/api.rsc/$metadata")
    assert metadata.status_code == 200 and "SHAREDGUEST" in metadata.text
    assert second_calls == []
    # The guest-space route came with the snapshot: records are read on the space's path.
    records = second.get("/api.rsc/SHAREDGUEST")
    assert records.status_code == 200, records.text
    assert [r["title"] for r in records.json()["value"]] == ["hello"]
    assert not MODEL_CALLS & set(second_calls)


def test_after_the_ttl_one_instance_checks_the_apps_for_all(server, redis_url, start_instance,
                                                            ops_app):
    settings, token = settings_for(server.url, (ops_app,), cluster={"Redis": redis_url})
    instances = [start_instance(settings, token, schema_cache_ttl=TTL) for _ in range(3)]
    for gw in instances:
        assert gw.get("/api.rsc/$metadata").status_code == 200
    models = [model_of(gw) for gw in instances]
    calls = [calls_of(gw.client) for gw in instances]
    time.sleep(TTL + 0.1)  # every model is due for its check
    for gw in instances:
        assert gw.get("/api.rsc/$metadata").status_code == 200
    assert [made.count(FIELDS) for made in calls] == [1, 0, 0]  # the first claimed the check
    assert [model_of(gw) for gw in instances] == models  # nothing changed: nothing rebuilt


@pytest.mark.parametrize(("check_seconds", "other_ttl"), [
    ("0", 300),  # the other learns it from the schema version the checker bumps
    ("3600", TTL),  # it does not look at the version: its own check finds the newer snapshot
], ids=["told", "own-check"])
def test_a_form_change_is_seen_by_every_instance_from_one_read(
        server, redis_url, start_instance, admin: Kintone, check_seconds, other_ttl):
    app = admin.make_app(TITLE, name=f"Shared change {check_seconds}")
    settings, token = settings_for(server.url, (app,), cluster={
        "Redis": redis_url, "SchemaCheckSeconds": check_seconds})
    checking = start_instance(settings, token, schema_cache_ttl=TTL)
    other = start_instance(settings, token, schema_cache_ttl=other_ttl)
    for gw in (checking, other):
        assert "amount" not in gw.get("/api.rsc/$metadata").text
    admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": AMOUNT})
    admin.ok("POST", "preview/app/deploy", {"apps": [{"app": app}]})
    other_calls = calls_of(other.client)
    time.sleep(TTL + 0.1)
    assert "amount" in checking.get("/api.rsc/$metadata").text
    assert "amount" in other.get("/api.rsc/$metadata").text
    assert other_calls == []  # rebuilt from what the checking instance read


def test_a_reload_makes_every_instance_read_kintone_again(server, redis_url, start_instance,
                                                          ops_app):
    settings, token = settings_for(server.url, (ops_app,), cluster={
        "Redis": redis_url, "SchemaCheckSeconds": "0"})
    first, second = start_instance(settings, token), start_instance(settings, token)
    for gw in (first, second):
        assert gw.get("/api.rsc/$metadata").status_code == 200
    shared = redis.Redis.from_url(redis_url)
    assert shared.keys("*schema-snapshot:*")
    second_calls = calls_of(second.client)
    first.ops.invalidate_schema()
    assert not shared.keys("*schema-snapshot:*")
    assert second.get("/api.rsc/$metadata").status_code == 200
    assert second_calls.count(FIELDS) == 1  # not rebuilt from a snapshot the reload undid


def test_a_snapshot_of_other_settings_or_unreadable_is_not_used(server, redis_url,
                                                                 start_instance, ops_app, admin):
    other_app = admin.make_app(TITLE, name="Shared elsewhere")
    settings, token = settings_for(server.url, (ops_app,), cluster={"Redis": redis_url})
    elsewhere, other_token = settings_for(server.url, (other_app,),
                                          cluster={"Redis": redis_url})
    assert start_instance(settings, token).get("/api.rsc/$metadata").status_code == 200
    other = start_instance(elsewhere, other_token)
    calls = calls_of(other.client)
    metadata = other.get("/api.rsc/$metadata").text
    assert "SharedElsewhere" in metadata and '"OPS"' not in metadata
    assert calls.count(FIELDS) == 1  # its apps are not the snapshot's
    shared = redis.Redis.from_url(redis_url)
    for key in shared.keys("*schema-snapshot:*"):
        shared.set(key, b'{"format": 1, "forms": [')  # cut short
    late = start_instance(settings, token)
    late_calls = calls_of(late.client)
    assert late.get("/api.rsc/OPS").status_code == 200
    assert late_calls.count(FIELDS) == 1


def test_a_failing_redis_leaves_the_model_read_from_kintone(server, ops_app, caplog):
    """The snapshot's Redis refuses connections: the model is read as by a lone instance, with
    one warning for the outage, which does not show the Redis password."""
    url = f"redis://:snapshot-secret@127.0.0.1:{free_port()}/0"
    settings, _ = settings_for(server.url, (ops_app,), cluster={"Redis": url})
    client = KintoneClient(settings.kintone, retry=FAST_RETRY)
    try:
        models = model_cache(client, settings, schema_store(settings))
        calls = calls_of(client)
        with caplog.at_level(logging.WARNING, logger="gateway.ops"):
            first = models.get()
            models.invalidate()
            assert models.get() is not first  # read again, from Kintone
    finally:
        client.close()
    assert calls.count(FIELDS) == 2
    assert "OPS" in first.entity_sets
    warnings = [r.getMessage() for r in caplog.records if r.name == "gateway.ops"]
    assert len(warnings) == 1 and "snapshot" in warnings[0]
    assert "snapshot-secret" not in caplog.text

