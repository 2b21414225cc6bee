"""CORS: off by default, preflights answered without a token, nothing for other origins."""

from __future__ import annotations

import pytest
from flask import Flask

from gateway.events import Stream
from gateway.security import add_user, register
from gateway.settings import SettingsError
from tests.security.conftest import settings_of, token_header

PAGE = "https://app.example.com"
OTHER = "https://evil.example"


def guarded(serve, **cors: str):
    settings, token = add_user(settings_of({"CORS": cors}), "alice")
    return serve(settings), token_header(token)


def preflight(server, origin: str, method: str = "GET",
              headers: str = "x-authtoken, content-type"):
    return server.call("OPTIONS", "/api.rsc/Orders", {
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def cors_headers(reply) -> dict[str, str]:
    return {k.lower(): v for k, v in reply.headers.items()
            if k.lower().startswith(("access-control-", "timing-allow-origin"))}


def test_an_allowed_preflight_needs_no_token(serve):
    server, _ = guarded(serve, AllowedOrigins=f"{PAGE}, http://localhost:3000")
    reply = preflight(server, PAGE, "PATCH")
    assert reply.status == 204
    headers = cors_headers(reply)
    assert headers["access-control-allow-origin"] == PAGE
    assert headers["access-control-allow-methods"] == "GET, PUT, POST, PATCH, DELETE, OPTIONS"
    allowed = headers["access-control-allow-headers"].split(", ")
    for name in ("authorization", "content-type", "x-ms-client-request-id", "x-authtoken",
                 "x-cdata-authtoken"):
        assert name in allowed
    assert headers["access-control-max-age"] == "3600"
    assert "access-control-allow-credentials" not in headers
    assert "Origin" in reply.header("Vary")


def test_a_refused_preflight_gets_no_cors_headers(serve):
    server, _ = guarded(serve, AllowedOrigins=PAGE)
    reply = preflight(server, OTHER)
    assert reply.status == 403
    assert cors_headers(reply) == {}


def test_cors_is_off_by_default(serve):
    server, auth = guarded(serve)
    assert cors_headers(preflight(server, PAGE)) == {}
    assert cors_headers(server.get("/api.rsc/Orders", {**auth, "Origin": PAGE})) == {}


def test_responses_to_an_allowed_origin(serve):
    server, auth = guarded(serve, AllowedOrigins=PAGE)
    reply = server.get("/api.rsc/Orders", {**auth, "Origin": PAGE})
    assert reply.status == 200
    headers = cors_headers(reply)
    assert headers["access-control-allow-origin"] == PAGE
    assert "odata-version" in headers["access-control-expose-headers"]
    assert headers["timing-allow-origin"] == PAGE  # the page may read its Server-Timing
    # Refusals carry them too, or the page could not read why it was refused.
    refused = server.get("/api.rsc/Orders", {"Origin": PAGE})
    assert refused.status == 401
    assert cors_headers(refused)["access-control-allow-origin"] == PAGE


def test_responses_to_another_origin_get_no_cors_headers(serve):
    server, auth = guarded(serve, AllowedOrigins=PAGE)
    reply = server.get("/api.rsc/Orders", {**auth, "Origin": OTHER})
    assert cors_headers(reply) == {}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_changes_from_another_origin_are_refused(serve, method):
    # A browser may hold Basic credentials for the gateway and send them with a cross-site form.
    server, auth = guarded(serve, AllowedOrigins=PAGE)
    reply = server.call(method, "/api.rsc/Orders", {**auth, "Origin": OTHER}, body=b"{}")
    assert reply.status == 403
    assert reply.json()["error"]["code"] == "OriginNotAllowed"
    own = server.call(method, "/api.rsc/Orders", {**auth, "Origin": server.origin}, body=b"{}")
    assert own.status == 200


def test_any_origin(serve):
    server, _ = guarded(serve, AllowedOrigins="*")
    headers = cors_headers(preflight(server, OTHER))
    assert headers["access-control-allow-origin"] == headers["timing-allow-origin"] == "*"


def test_any_origin_with_credentials_is_refused_at_startup():
    settings = settings_of({"CORS": {"AllowedOrigins": "*", "AllowCredentials": "true"}})
    with pytest.raises(SettingsError, match=r"(?i)\[CORS\] AllowCredentials: cannot be true "
                       r"with AllowedOrigins = \*"):
        register(Flask("refused"), settings, Stream())


def test_listed_origin_with_credentials(serve):
    server, _ = guarded(serve, AllowedOrigins=PAGE, AllowCredentials="true",
                        AllowedHeaders="*", MaxAge="60", AllowedMethods="GET")
    headers = cors_headers(preflight(server, PAGE, headers="x-authtoken, x-custom"))
    assert headers["access-control-allow-origin"] == PAGE
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-allow-headers"] == "x-authtoken, x-custom"
    assert headers["access-control-allow-methods"] == "GET"
    assert headers["access-control-max-age"] == "60"
    assert cors_headers(preflight(server, "null")) == {}
