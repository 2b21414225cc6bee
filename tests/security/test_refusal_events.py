"""Every refusal of the guard is published on the app's event stream, with its reason; what
the guard lets through is not."""

from __future__ import annotations

import logging
import threading

from gateway.events import KintoneCallMade, RequestRefused
from gateway.security import add_user
from tests.security.conftest import settings_of, token_header
from tests.security.test_audit import audit_lines


def refusals_of(server) -> list[RequestRefused]:
    refused: list[RequestRefused] = []
    server.guard.events.subscribe(RequestRefused, refused.append)
    return refused


def test_each_refusal_is_published_with_its_reason(serve):
    settings, token = add_user(settings_of({"Security": {
        "AllowedIPs": "127.0.0.1", "MaxRequestBytes": "1024"}}), "alice", per_hour=2)
    server = serve(settings)
    refused = refusals_of(server)
    auth = token_header(token)
    assert server.get("/api.rsc/", auth).status == 200
    assert server.get("/api.rsc/", auth, source="127.0.0.2").status == 403
    assert server.get("/api.rsc/").status == 401
    assert server.call("POST", "/api.rsc/Orders", auth, body=b"x" * 2048).status == 413
    assert [server.get("/api.rsc/", auth).status for _ in range(2)] == [200, 429]
    assert refused == [RequestRefused("address", 403), RequestRefused("credentials", 401),
                       RequestRefused("body", 413), RequestRefused("hourly", 429)]


def test_a_concurrency_refusal_is_published(serve, gate):
    settings, token = add_user(settings_of(), "frank", concurrent=1)
    server = serve(settings)
    refused = refusals_of(server)
    auth = token_header(token)
    slow = threading.Thread(target=server.get, args=("/api.rsc/Slow", auth))
    slow.start()
    assert gate.entered.wait(10)
    assert server.get("/api.rsc/", auth).status == 429
    gate.release.set()
    slow.join(10)
    assert refused == [RequestRefused("concurrent", 429)]


def test_a_failing_subscriber_does_not_break_the_request(serve, caplog):
    caplog.set_level(logging.INFO)
    settings, token = add_user(settings_of(), "alice")
    server = serve(settings)

    def broken(_event: object) -> None:
        raise RuntimeError("a broken subscriber")

    server.guard.events.subscribe(KintoneCallMade, broken)
    server.guard.events.subscribe(RequestRefused, broken)
    assert server.get("/api.rsc/Orders?calls=2", token_header(token)).status == 200
    assert server.get("/api.rsc/Orders").status == 401  # the refusal still answered as such
    lines = sorted(audit_lines(caplog, 2), key=lambda line: line["status"])
    assert [(line["status"], line["kintone_calls"]) for line in lines] == [(200, 2), (401, 0)]
    assert "a broken subscriber" in caplog.text
