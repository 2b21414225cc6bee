"""Probes, metrics and request ids on an in-process gateway: who may call them, and what the
metrics count."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests

from gateway.events import DeliveryTried, RequestRefused, Stream
from gateway.ops.logs import JsonFormatter
from gateway.ops.metrics import Metrics
from gateway.sandbox import Sandbox
from gateway.sandbox.state import Faults
from gateway.security import add_user
from gateway.settings import Secret
from gateway.triggers.context import EXTENSION as TRIGGERS
from gateway.triggers.store import Subscription
from tests.ops.conftest import Instance, settings_for

SET = "OPS"


def test_probes_answer_without_an_authtoken(server, start_instance, ops_app):
    gw = start_instance(*settings_for(server.url, (ops_app,)))
    assert gw.get("/healthz", auth=False).json() == {"status": "alive"}
    ready = gw.get("/readyz", auth=False)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert gw.get("/api.rsc/", auth=False).status_code == 401  # the API still needs one


def test_probes_answer_only_allowed_addresses(server, start_instance, ops_app):
    gw = start_instance(*settings_for(server.url, (ops_app,),
                                      security={"AllowedIPs": "10.0.0.0/8"}))
    for path in ("/healthz", "/readyz", "/metrics"):
        refused = gw.get(path, auth=False)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "AddressNotAllowed"


def test_readiness_fails_when_kintone_refuses_the_credentials(server, start_instance, ops_app):
    settings, token = settings_for(server.url, (ops_app,))
    wrong = replace(settings.kintone, password=Secret("wrong-password"))
    gw = start_instance(replace(settings, kintone=wrong), token)
    reply = gw.get("/readyz", auth=False)
    assert reply.status_code == 503
    (detail,) = reply.json()["error"]["details"]
    assert detail["code"] == "KintoneUnreachable" and detail["target"] == "kintone"
    assert "wrong-password" not in reply.text


@pytest.fixture
def scraper(server, start_instance, ops_app) -> tuple[Instance, str]:
    """A gateway whose user ``ops`` may make 3 requests an hour, and a ``prometheus`` user
    without limit to read its metrics."""
    settings, token = settings_for(server.url, (ops_app,), security={"RequestsPerHour": "3"})
    settings, scrape_token = add_user(settings, "prometheus", per_hour=0)
    return start_instance(settings, token), scrape_token


def metric(gw: Instance, token: str, name: str) -> float:
    text = gw.get("/metrics", headers={"X-Authtoken": token}, auth=False).text
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_rate_limit_refusals(scraper):
    gw, scrape = scraper
    assert [gw.get("/api.rsc/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert metric(gw, scrape, 'gateway_rate_limit_refusals_total{limit="hourly"}') == 1
    assert metric(gw, scrape, 'gateway_http_requests_total{method="GET",route="/api.rsc/",'
                              'status="429"}') == 1


def test_metrics_count_kintone_calls_retries_and_throttling(scraper, sandbox: Sandbox):
    gw, scrape = scraper
    assert gw.get(f"/api.rsc/{SET}(1)").status_code == 200
    calls = metric(gw, scrape, "gateway_kintone_calls_total")
    sandbox.faults = Faults(rate_429=1.0)
    try:
        throttled = gw.get(f"/api.rsc/{SET}(1)")
    finally:
        sandbox.faults = Faults()
    assert throttled.status_code == 503
    assert metric(gw, scrape, "gateway_kintone_calls_total") == calls + 3  # 1 + 2 retries
    assert metric(gw, scrape, "gateway_kintone_retries_total") == 2
    assert metric(gw, scrape, "gateway_kintone_throttled_total") == 3
    assert metric(gw, scrape, 'gateway_kintone_failures_total{status="429"}') == 3


def test_metrics_count_what_the_event_stream_tells():
    events = Stream()
    counted = Metrics()
    counted.subscribe(events)
    for event in (DeliveryTried("delivered", 1, None), DeliveryTried("retry", 1, "503"),
                  RequestRefused("concurrent", 429), RequestRefused("address", 403)):
        events.publish(event)
    text = counted.exposition().decode()
    assert 'gateway_trigger_deliveries_total{outcome="delivered"} 1.0' in text
    assert 'gateway_trigger_deliveries_total{outcome="retry"} 1.0' in text
    assert 'gateway_rate_limit_refusals_total{limit="concurrent"} 1.0' in text
    assert 'limit="address"' not in text  # seen in the requests' statuses, not a rate limit


def test_metrics_show_the_trigger_queue_depth(scraper):
    gw, scrape = scraper
    ctx = gw.app.extensions[TRIGGERS]
    ctx.worker.stop()  # what is queued stays queued
    assert metric(gw, scrape, "gateway_trigger_queue_depth") == 0
    ctx.store.add(Subscription("s1", 1, SET, "ADD_RECORD", "http://127.0.0.1:9/callback", "ops"))
    ctx.store.enqueue("kintone-1", [("s1", b"{}"), ("s1", b"{}")], time.time())
    assert metric(gw, scrape, "gateway_trigger_queue_depth") == 2


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the gateway's loggers write, formatted as under gunicorn."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_every_line_of_a_request_carries_its_id(server, start_instance, ops_app, json_lines,
                                                sandbox: Sandbox):
    gw = start_instance(*settings_for(server.url, (ops_app,)))
    gw.get("/api.rsc/")
    sandbox.faults = Faults(rate_503=1.0)
    try:
        reply = gw.get(f"/api.rsc/{SET}(1)", headers={"X-Request-Id": "req-7"})
    finally:
        sandbox.faults = Faults()
    assert (reply.status_code, reply.headers["X-Request-Id"]) == (503, "req-7")
    ours = _lines_of("req-7", json_lines)
    (audit,) = [line["audit"] for line in ours if line["logger"] == "gateway.audit"]
    assert audit["status"] == 503 and audit["kintone_calls"] == 3
    failures = [line["message"] for line in ours if "Kintone error id" in line.get("message", "")]
    assert len(failures) == 3  # each tied to Kintone's own error id


def test_one_kintone_call_reaches_the_metrics_and_the_audit_line(scraper, json_lines):
    """Both count from the one event stream: the call the audit line counts is the one the
    metrics count."""
    gw, scrape = scraper
    assert gw.get(f"/api.rsc/{SET}(1)").status_code == 200  # the model is read and cached
    before = metric(gw, scrape, "gateway_kintone_calls_total")
    reply = gw.get(f"/api.rsc/{SET}(1)", headers={"X-Request-Id": "one-call"})
    assert reply.status_code == 200
    (audit,) = [line["audit"] for line in _lines_of("one-call", json_lines)
                if line["logger"] == "gateway.audit"]
    assert audit["kintone_calls"] == 1
    assert metric(gw, scrape, "gateway_kintone_calls_total") == before + 1


def _lines_of(request_id: str, stream: io.StringIO) -> list[dict]:
    """The lines of one request, once its audit line (written after its last byte) is in."""
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        ours = [line for line in lines if line.get("request_id") == request_id]
        if any(line["logger"] == "gateway.audit" for line in ours) or time.monotonic() > deadline:
            return ours
        time.sleep(0.02)


def test_a_refusal_has_a_request_id_too(server, start_instance, ops_app):
    gw = start_instance(*settings_for(server.url, (ops_app,)))
    refused = gw.get("/api.rsc/", auth=False)
    assert refused.status_code == 401
    assert len(refused.headers["X-Request-Id"]) == 32


def test_made_up_methods_and_paths_add_no_metric_series(server, start_instance, ops_app):
    """Even from an address the allowlist refuses: labels are known methods and route rules,
    so a thousand made-up ones add no line to the metrics."""
    gw = start_instance(*settings_for(server.url, (ops_app,),
                                      security={"AllowedIPs": "10.0.0.0/8"}))

    def junk(first: int, last: int) -> list[str]:
        for n in range(first, last):
            response = requests.request(f"JUNK{n}", f"{gw.origin}/api.rsc/x{n}/y{n}", timeout=10)
            assert response.status_code in (403, 405)
            requests.get(f"{gw.origin}/api.rsc/OPS({n})/nothing{n}", timeout=10)
        return gw.ops.metrics.exposition().decode().splitlines()

    lines = junk(0, 3)
    assert len(junk(3, 40)) == len(lines)
    text = "\n".join(lines)
    assert "JUNK" not in text and "nothing" not in text and "x1" not in text
