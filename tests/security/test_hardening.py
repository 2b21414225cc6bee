"""Hardening: body size limit, security headers, no server banner, file permission warning."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from gateway import ops, triggers
from gateway.events import Stream
from gateway.ops import health
from gateway.security import EXTENSION, add_user, register
from gateway.web import create_app
from tests.security.conftest import settings_of, token_header


@pytest.fixture
def server(serve):
    settings, token = add_user(settings_of({"Security": {"MaxRequestBytes": "2048"}}), "alice")
    server = serve(settings)
    server.auth = token_header(token)
    return server


def test_security_headers_and_no_banner(server):
    for reply in (server.get("/api.rsc/", server.auth), server.get("/api.rsc/")):
        assert reply.header("Server") == "kintone-gateway"
        assert reply.header("X-Content-Type-Options") == "nosniff"
        assert reply.header("X-Frame-Options") == "DENY"
        assert reply.header("Referrer-Policy") == "no-referrer"
        assert "frame-ancestors 'none'" in reply.header("Content-Security-Policy")


def test_a_body_over_the_limit_is_413_before_authentication(server):
    reply = server.call("POST", "/api.rsc/Orders", body=b"x" * 2049)
    assert reply.status == 413
    assert reply.json()["error"]["code"] == "PayloadTooLarge"
    assert server.call("POST", "/api.rsc/Orders", server.auth, body=b"x" * 2048).status == 200


def test_registering_twice_changes_nothing(serve):
    settings, _ = add_user(settings_of(), "alice")
    server = serve(settings)
    assert register(server.app, settings, server.guard.events) is server.guard
    assert server.app.before_request_funcs[None].count(server.guard.before) == 1


def test_the_address_check_runs_before_every_hook_that_does_not_check_it_itself(
        tmp_path, monkeypatch):
    # create_app orders the hooks (no package puts its own first): before the guard's come
    # only the metrics' route label, which answers nothing, and the probes' hook, which checks
    # the address itself (tests/ops/test_probes_and_metrics.py).
    monkeypatch.chdir(tmp_path)  # the triggers' database
    settings, _ = add_user(settings_of({"Security": {"AllowedIPs": "10.0.0.1"}}), "alice")
    app = create_app(settings)
    try:
        hooks = app.before_request_funcs[None]
        guard = app.extensions[EXTENSION]
        assert hooks[:hooks.index(guard.before)] == [ops.note_route, health.serve_probe]
    finally:
        triggers.shutdown(app)


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_warning_when_the_settings_file_is_readable_by_others(tmp_path, monkeypatch, caplog,
                                                             mode, warned):
    file = tmp_path / "settings.cfg"
    file.write_text("[kintone]\n")
    file.chmod(mode)
    monkeypatch.setenv("GATEWAY_SETTINGS", str(file))
    monkeypatch.chdir(tmp_path)
    settings, _ = add_user(settings_of(), "alice")
    with caplog.at_level(logging.WARNING, "gateway.security"):
        register(Flask("permissions"), settings, Stream())
    assert (f"{file} can be read or changed by other users" in caplog.text) is warned
