"""The audit log: one JSON line per request; no authtoken in any log line or error body."""

from __future__ import annotations

import json
import logging
import time

import pytest

from gateway.security import add_user
from tests.security.conftest import basic, settings_of, token_header


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def audit_lines(caplog, count: int) -> list[dict]:
    """The audit lines, once there are ``count``: each is written when its response has been
    sent, so just after the client has it."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gateway.audit"]
        if len(lines) >= count or time.monotonic() > deadline:
            assert len(lines) == count
            return lines
        time.sleep(0.01)


def test_one_line_per_request_with_its_facts(serve, logs):
    settings, token = add_user(settings_of(), "alice")
    server = serve(settings)
    server.get("/api.rsc/Orders?calls=3&$top=2", token_header(token))
    server.get("/api.rsc/Orders")
    # Each line is written once its response is sent, so they may come in either order.
    second, first = sorted(audit_lines(logs, 2), key=lambda line: line["user"] or "")
    assert first.keys() == {"time", "user", "client_ip", "method", "path", "status", "bytes",
                            "duration_ms", "kintone_calls"}
    assert first["user"] == "alice"
    assert first["client_ip"] == "127.0.0.1"
    assert (first["method"], first["path"], first["status"]) == (
        "GET", "/api.rsc/Orders?calls=3&$top=2", 200)
    assert first["kintone_calls"] == 3
    assert first["bytes"] == len(b'{"entity_set":"Orders","user":"alice"}\n')
    assert first["duration_ms"] >= 0
    assert first["time"].endswith("+00:00")
    assert (second["user"], second["status"], second["kintone_calls"]) == (None, 401, 0)


def test_the_client_behind_a_trusted_proxy_is_logged(serve, logs):
    settings, token = add_user(settings_of({"Security": {
        "AllowedIPs": "*", "TrustedProxies": "127.0.0.1"}}), "alice")
    server = serve(settings)
    server.get("/api.rsc/", {**token_header(token), "X-Forwarded-For": "2001:db8::5"})
    assert audit_lines(logs, 1)[0]["client_ip"] == "2001:db8::5"


def test_no_token_in_any_log_or_error(serve, logs, capfd):
    settings, token = add_user(settings_of({"Application": {"AllowAuthtokenInURL": "true"}}),
                               "alice")
    server = serve(settings)
    wrong = token[::-1]
    bodies = [
        server.get(f"/api.rsc/@{token}/Orders").body,
        server.get(f"/api.rsc/Orders?$top=1&@authtoken={token}").body,
        server.get(f"/api.rsc/@{wrong}/Orders").body,
        server.get("/api.rsc/Orders", basic("alice", wrong)).body,
        server.get("/api.rsc/Orders", basic("alice", token)).body,
        server.get("/api.rsc/Orders", token_header(wrong)).body,
        server.get("/api.rsc/Orders", {"x-cdata-authtoken": token}).body,
    ]
    paths = {line["path"] for line in audit_lines(logs, len(bodies))}
    assert {"/api.rsc/@***/Orders", "/api.rsc/Orders?$top=1&@authtoken=***"} <= paths
    captured = logs.text + "".join(capfd.readouterr())
    assert "GET /api.rsc/@***/Orders" in captured  # the server's own request log, redacted
    for secret in (token, wrong):
        assert secret not in captured
        assert not any(secret.encode() in body for body in bodies)
