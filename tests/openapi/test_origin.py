"""Where the document says the API is: forwarded headers count only from trusted proxies."""

from __future__ import annotations

import configparser

import pytest

from gateway.openapi.origin import Origin, RequestView, origin, trusted_proxies
from gateway.settings import SettingsError, parse_settings

FORWARDED = {"forwarded_proto": "https", "forwarded_host": "gw.example.com, inner:8080"}


def settings(**security: str):
    parser = configparser.ConfigParser()
    parser.read_dict({"kintone": {"Url": "https://x.cybozu.com", "User": "u", "Password": "p"},
                      "Security": security})
    return parse_settings(parser, {})


def test_forwarded_headers_count_only_from_a_trusted_proxy():
    proxies = trusted_proxies(settings(TrustedProxies="10.0.0.*, ::1"))
    direct = RequestView("http", "127.0.0.1:8080", "192.0.2.7", **FORWARDED)
    assert origin(None, proxies, direct) == Origin("http", "127.0.0.1:8080", "/api.rsc")
    for proxy in ("10.0.0.3", "::1"):
        via_proxy = RequestView("http", "127.0.0.1:8080", proxy, **FORWARDED)
        assert origin(None, proxies, via_proxy, "t") == Origin(
            "https", "gw.example.com", "/api.rsc/@t")


def test_no_proxy_is_trusted_by_default():
    request = RequestView("http", "localhost:8080", "127.0.0.1", **FORWARDED)
    assert origin(None, trusted_proxies(settings()), request).host == "localhost:8080"


def test_public_url_wins_and_an_unusable_host_is_left_out():
    request = RequestView("http", "[::1]:8080", "::1")
    nobody = trusted_proxies(settings())
    assert origin("https://gw.example.com:8443/k", nobody, request) == Origin(
        "https", "gw.example.com:8443", "/k/api.rsc")
    where = origin(None, nobody, request)
    assert where.host is None and where.url == "/api.rsc"


def test_a_bad_proxy_setting_fails_at_start():
    with pytest.raises(SettingsError, match="TrustedProxies"):
        trusted_proxies(settings(TrustedProxies="10.0.*.1"))
