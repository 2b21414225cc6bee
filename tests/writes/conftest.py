"""Gateways with the write side registered, in front of the session's sandbox (or of a private
one, for fault injection), called by a user with every right; helpers to talk to them."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests

from gateway.http.context import EXTENSION
from gateway.kintone import RetryPolicy
from gateway.odata.payload import dumps
from gateway.writes import register
from tests.gateway.conftest import (  # noqa: F401  (fixtures used by this folder's tests)
    FAST_RETRY,
    Gateway,
    RecordingClient,
    extension,
    kintone_settings,
    make_app,
    start_gateway,
)


@pytest.fixture(scope="session")
def start_writer(start_gateway: Callable[..., Gateway]) -> Callable[..., Gateway]:  # noqa: F811
    """``start_gateway`` with the write routes; ``retry`` paces the write side's repeats (and,
    with ``kintone=`` settings of another sandbox, the Kintone client's retries)."""

    def start(apps: list[int], *, retry: RetryPolicy = FAST_RETRY, **kwargs: Any) -> Gateway:
        if kwargs.get("kintone") is not None and "client" not in kwargs:
            kwargs["client"] = RecordingClient(kwargs["kintone"], retry=retry)
        gw = start_gateway(apps, **kwargs)
        register(gw.app, gw.app.extensions[EXTENSION], retry=retry)
        return gw

    return start


def call(gw: Gateway, method: str, path: str, body: Any = None, *,
         headers: dict | None = None, **kwargs: Any) -> requests.Response:
    """A request as the test user, with ``body`` as JSON (decimals written exactly)."""
    kwargs.setdefault("timeout", 120)
    headers = {**gw.auth, **(headers or {})}
    if body is not None:
        kwargs["data"] = dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    return requests.request(method, gw.url(path), headers=headers, **kwargs)


def decoded(response: requests.Response) -> Any:
    """The JSON body with decimals kept exact."""
    return json.loads(response.text, parse_float=Decimal)


def ok(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return decoded(response) if response.content else None


def error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()["error"]
