"""One method policy (issue 21): every path of the document takes exactly the methods the
document lists there; ``OPTIONS`` says which (204, ``Allow``), any other method is a 405 with
the same ``Allow`` as an OData error, TRACE included; never an HTML body."""

from __future__ import annotations

import re

import pytest
import requests

from tests.gateway.conftest import Gateway

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "TRACE")
_TEMPLATE = re.compile(r"\{(\w+)\}")
# A value for each path parameter: ids exist in the demo data or not, the policy must not care.
_VALUES = {"Code": "x", "Key": "1", "SubscriptionId": "x"}


def concrete(path: str) -> str:
    return _TEMPLATE.sub(lambda m: _VALUES.get(m.group(1), "1"), path)


def documented(oas: dict) -> list[tuple[str, frozenset[str]]]:
    return [(path, frozenset(m.upper() for m in item if m.upper() in METHODS))
            for path, item in oas["paths"].items()]


def allow(response: requests.Response) -> frozenset[str]:
    return frozenset(m.strip() for m in response.headers["Allow"].split(","))


def test_every_documented_path_allows_exactly_its_documented_methods(demo_gateway: Gateway,
                                                                     oas: dict):
    problems = []
    for path, methods in documented(oas):
        url = demo_gateway.url(concrete(path).lstrip("/"))
        options = requests.options(url, headers=demo_gateway.auth, timeout=30)
        if options.status_code != 204 or options.content:
            problems.append(f"OPTIONS {path}: {options.status_code} {options.text[:100]}")
            continue
        if allow(options) != methods | {"OPTIONS"}:
            problems.append(f"OPTIONS {path}: Allow {sorted(allow(options))}, documented "
                            f"{sorted(methods)}")
        for method in set(METHODS) - methods:
            response = requests.request(method, url, headers=demo_gateway.auth, timeout=30)
            if response.status_code != 405 or allow(response) != allow(options):
                problems.append(f"{method} {path}: {response.status_code} "
                                f"{response.headers.get('Allow')}")
            elif response.json()["error"]["code"] != "MethodNotAllowed":
                problems.append(f"{method} {path}: {response.text[:100]}")
    assert problems == []


@pytest.mark.parametrize("path", ["CUSTOMERS(1)/nope/x", "CUSTOMERS(1", "CUSTOMERS('a)",
                                  "CUSTOMERS(1)/customer_code/1/$value", "Nope(1)", "a/b/c/d",
                                  "$triggers/nope", "%FF", "CUSTOMERS(1)/$value/x"])
@pytest.mark.parametrize("method", ["GET", "OPTIONS", "PATCH", "TRACE"])
def test_no_html_bodies(demo_gateway: Gateway, path, method):
    response = requests.request(method, demo_gateway.url(path), headers=demo_gateway.auth,
                                json={}, timeout=30)
    if response.status_code == 204:  # the file download rule takes any property name
        assert method == "OPTIONS" and "$value" in path and response.headers["Allow"]
        return
    assert response.status_code in (400, 404, 405, 501), response.text[:200]
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    assert response.json()["error"]["message"]
