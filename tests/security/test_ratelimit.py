"""Rate limits: per user per hour, per user concurrent, per client address; 429 + Retry-After,
and recovery as time passes (an injected clock: no real waiting)."""

from __future__ import annotations

import threading

from gateway.security import Rights, add_user
from gateway.security.ratelimit import HourlyLimiter
from tests.security.conftest import Clock, settings_of, token_header


def assert_limited(reply, retry_after: int) -> None:
    assert reply.status == 429
    assert reply.header("Retry-After") == str(retry_after)
    assert reply.json()["error"]["code"] == "TooManyRequests"


def test_requests_per_hour_hit_and_recovery(serve, clock):
    settings, token = add_user(settings_of(), "alice", per_hour=2)
    server = serve(settings)
    auth = token_header(token)
    assert [server.get("/api.rsc/", auth).status for _ in range(2)] == [200, 200]
    assert_limited(server.get("/api.rsc/", auth), 1800)
    clock.advance(1799)
    assert_limited(server.get("/api.rsc/", auth), 1)
    clock.advance(1)
    assert server.get("/api.rsc/", auth).status == 200
    assert server.get("/api.rsc/", auth).status == 429
    clock.advance(3600)  # a whole hour idle: the whole allowance is back
    assert [server.get("/api.rsc/", auth).status for _ in range(3)] == [200, 200, 429]


def test_the_server_default_applies_to_users_without_their_own(serve):
    settings, token = add_user(settings_of({"Security": {"RequestsPerHour": "1"}}), "bob")
    settings, other = add_user(settings, "carol", per_hour=0)  # 0 = unlimited
    server = serve(settings)
    assert server.get("/api.rsc/", token_header(token)).status == 200
    assert_limited(server.get("/api.rsc/", token_header(token)), 3600)
    assert all(server.get("/api.rsc/", token_header(other)).status == 200 for _ in range(5))


def test_users_are_limited_separately(serve):
    settings, first = add_user(settings_of(), "dave", per_hour=1)
    settings, second = add_user(settings, "erin", per_hour=1)
    server = serve(settings)
    assert server.get("/api.rsc/", token_header(first)).status == 200
    assert server.get("/api.rsc/", token_header(second)).status == 200
    assert server.get("/api.rsc/", token_header(first)).status == 429


def test_concurrent_requests(serve, gate):
    settings, token = add_user(settings_of(), "frank", concurrent=1)
    server = serve(settings)
    auth = token_header(token)
    slow = threading.Thread(target=server.get, args=("/api.rsc/Slow", auth))
    slow.start()
    assert gate.entered.wait(10)
    assert_limited(server.get("/api.rsc/", auth), 1)
    gate.release.set()
    slow.join(10)
    assert server.get("/api.rsc/", auth).status == 200


def test_a_refused_request_frees_its_slot(serve):
    settings, token = add_user(settings_of(), "gina", Rights.parse("GET:* DELETE:Customers"),
                               concurrent=1)
    server = serve(settings)
    # require() refuses inside the view: the slot taken before it must still be released.
    assert server.call("DELETE", "/api.rsc/Orders(1)", token_header(token)).status == 403
    assert [server.get("/api.rsc/", token_header(token)).status for _ in range(3)] == [200] * 3


def test_requests_per_hour_per_address_count_before_authentication(serve, clock):
    settings, token = add_user(settings_of({"Security": {"RequestsPerHourPerIP": "3"}}), "hal")
    server = serve(settings)
    assert server.get("/api.rsc/").status == 401
    assert server.get("/api.rsc/", token_header(token)).status == 200
    assert server.get("/api.rsc/", source="127.0.0.2").status == 401  # another address
    assert server.get("/api.rsc/", token_header(token)).status == 200
    assert_limited(server.get("/api.rsc/", token_header(token)), 1200)
    clock.advance(1200)
    assert server.get("/api.rsc/", token_header(token)).status == 200


def test_the_limiter_is_exact_under_threads():
    limiter = HourlyLimiter(Clock())
    allowed = []

    def hit() -> None:
        for _ in range(50):
            allowed.append(limiter.hit("k", 100) is None)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 100


def test_zero_is_unlimited():
    limiter = HourlyLimiter(Clock())
    assert all(limiter.hit("k", 0) is None for _ in range(1000))
