"""The IP allowlist: its forms, IPv6, loopback-only default, X-Forwarded-For only from trusted
proxies, and that it is checked before anything else."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.security import add_user
from gateway.security.ipallow import AddressList, IpPolicy
from gateway.settings import SettingsError
from tests.security.conftest import settings_of, token_header


def guarded(serve, host: str = "127.0.0.1", **security: str):
    settings, token = add_user(settings_of({"Security": security}), "alice")
    return serve(settings, host), token_header(token)


def assert_refused(reply) -> None:
    assert reply.status == 403
    assert reply.json()["error"]["code"] == "AddressNotAllowed"


def test_default_allows_all_of_loopback(serve):
    server, auth = guarded(serve)
    assert server.get("/api.rsc/", auth).status == 200
    assert server.get("/api.rsc/", auth, source="127.0.0.9").status == 200


def test_default_allows_ipv6_loopback(serve):
    server, auth = guarded(serve, "::1")
    assert server.get("/api.rsc/", auth).status == 200


def test_ipv6_allowlist(serve):
    server, auth = guarded(serve, "::1", AllowedIPs="::1/128")
    assert server.get("/api.rsc/", auth).status == 200
    v4, _ = guarded(serve, "127.0.0.1", AllowedIPs="::1/128")
    assert_refused(v4.get("/api.rsc/", auth))


def test_an_address_not_listed_is_refused_before_authentication(serve):
    server, _ = guarded(serve, AllowedIPs="127.0.0.2")
    assert_refused(server.get("/api.rsc/"))  # 403 for the address, not 401 for the token
    assert_refused(server.call("OPTIONS", "/api.rsc/", {
        "Origin": "http://a.example", "Access-Control-Request-Method": "GET"}))
    assert server.get("/api.rsc/", source="127.0.0.2").status == 401


def test_spoofed_forwarded_for_from_an_untrusted_address_is_ignored(serve):
    server, auth = guarded(serve, AllowedIPs="203.0.113.0/24")
    assert_refused(server.get("/api.rsc/", {**auth, "X-Forwarded-For": "203.0.113.5"}))


def test_forwarded_for_from_a_trusted_proxy(serve):
    server, auth = guarded(serve, AllowedIPs="203.0.113.0/24, 2001:db8::/32",
                           TrustedProxies="127.0.0.1, 10.0.0.0/8")
    for chain in ("203.0.113.5", "203.0.113.5, 10.1.2.3", "2001:db8::7"):
        assert server.get("/api.rsc/", {**auth, "X-Forwarded-For": chain}).status == 200
    # The client wrote the first address itself; the proxy saw 198.51.100.7 connect.
    assert_refused(server.get("/api.rsc/", {**auth,
                                            "X-Forwarded-For": "203.0.113.5, 198.51.100.7"}))
    assert_refused(server.get("/api.rsc/", {**auth, "X-Forwarded-For": "not-an-address"}))
    assert_refused(server.get("/api.rsc/", {**auth, "X-Forwarded-For": "127.0.0.1"}))


def test_the_client_behind_a_proxy_is_what_gets_checked(serve):
    server, auth = guarded(serve, AllowedIPs="127.0.0.1", TrustedProxies="127.0.0.1")
    assert_refused(server.get("/api.rsc/", {**auth, "X-Forwarded-For": "198.51.100.7"}))


@pytest.mark.parametrize(("rule", "inside", "outside"), [
    ("192.168.1.1-15", ["192.168.1.1", "192.168.1.15"], ["192.168.1.0", "192.168.1.16"]),
    ("192.168.1.10-192.168.1.20", ["192.168.1.10", "192.168.1.20"], ["192.168.1.21"]),
    ("192.168.1.*", ["192.168.1.0", "192.168.1.255"], ["192.168.2.1"]),
    ("10.1.*.*", ["10.1.0.1", "10.1.255.255"], ["10.2.0.1"]),
    ("10.0.0.0/8", ["10.255.0.1"], ["11.0.0.1"]),
    ("fd00::/8", ["fd12::1"], ["fe80::1", "10.0.0.1"]),
    ("2001:db8::1", ["2001:db8::1"], ["2001:db8::2"]),
    ("*", ["1.2.3.4", "::2"], []),
])
def test_rule_forms(rule, inside, outside):
    rules = AddressList.parse([rule])
    assert all(ipaddress.ip_address(a) in rules for a in inside)
    assert not any(ipaddress.ip_address(a) in rules for a in outside)


@pytest.mark.parametrize("rule", ["10.*.0.1", "10.0.0.*/8", "10.0.0.9-3", "nonsense", "::1-5"])
def test_bad_rules_are_settings_errors(rule):
    settings = settings_of({"Security": {"AllowedIPs": rule}})
    with pytest.raises(SettingsError, match=r"\[security\] AllowedIPs"):
        IpPolicy.from_settings(settings.section("Security"))


def test_ipv4_mapped_addresses_read_as_ipv4():
    policy = IpPolicy.from_settings(settings_of().section("Security"))
    assert policy.allows(policy.client("::ffff:127.0.0.1", None))
