"""Errors: OData JSON with the right status, exactly one OData-Version header, no internals."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import requests

from gateway.kintone import (
    KintoneAuthError,
    KintoneBadRequest,
    KintonePermissionError,
    KintoneThrottled,
    KintoneUnavailable,
)
from gateway.sandbox.state import Faults
from gateway.settings import Secret
from tests.gateway.conftest import FAST_RETRY, RecordingClient, kintone_settings, values

FIELDS = {"name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name"},
          "memo": {"type": "MULTI_LINE_TEXT", "code": "memo", "label": "Memo"}}


class FailingClient(RecordingClient):
    """Reads the model normally; record reads raise ``failure`` when it is set."""

    failure: Exception | None = None

    def get_records(self, *args: Any, **kwargs: Any):
        if self.failure is not None:
            raise self.failure
        return super().get_records(*args, **kwargs)


@pytest.fixture(scope="module")
def app_id(make_app) -> int:
    return make_app(FIELDS, [values(name="one")], code="ERRORS")[0]


@pytest.fixture(scope="module")
def gw(start_gateway, app_id):
    return start_gateway([app_id])


@pytest.fixture
def failing(start_gateway, server, app_id):
    client = FailingClient(kintone_settings(server.url, (app_id,)), retry=FAST_RETRY)
    return start_gateway([app_id], client=client), client


def error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.raw.headers.getlist("OData-Version") == ["4.0"]
    return response.json()["error"]


@pytest.mark.parametrize(("params", "status", "target"), [
    ({"$filter": "name eq"}, 400, "$filter"),
    ({"$filter": "nope eq 1"}, 400, "nope"),
    ({"$filter": "name eq 1"}, 400, None),
    ({"$select": "nope"}, 400, "nope"),
    ({"$top": "-1"}, 400, "$top"),
    ({"$bogus": "1"}, 400, "$bogus"),
    ({"$expand": "x"}, 400, "$expand"),
    ({"$expand": "*"}, 501, "$expand"),
    ({"$search": "x"}, 501, "$search"),
    ({"$orderby": "memo"}, 501, "$orderby"),
    ({"$format": "xml"}, 406, None),
])
def test_bad_and_unsupported_queries(gw, params, status, target):
    body = error(gw.get("ERRORS", params=params), status)
    assert body["message"]
    if target:
        assert body["target"] == target


def test_unknown_resources_are_404(gw):
    assert error(gw.get("Nope"), 404)["message"]
    error(gw.get("Nope(1)"), 404)
    error(gw.get("ERRORS(1)/a/b/c"), 404)
    error(gw.get("ERRORS(1)/$ref"), 501)
    error(requests.get(gw.root.replace("/api.rsc", "/elsewhere"), headers=gw.auth, timeout=30),
          404)


def test_a_method_the_resource_does_not_take_is_405(gw):
    response = requests.delete(gw.url("ERRORS"), headers=gw.auth, timeout=30)
    error(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(("failure", "status", "code"), [
    (KintoneAuthError(401, "CB_WA01", "Password authentication failed."), 502, "CB_WA01"),
    (KintonePermissionError(403, "CB_NO02", "No privilege."), 502, "CB_NO02"),
    (KintoneUnavailable(503, None, "No answer from Kintone."), 503, "HTTP503"),
    (KintoneBadRequest(400, "GAIA_IQ11", "Specified field (x) not found."), 400, "GAIA_IQ11"),
])
def test_kintone_failures(failing, failure, status, code):
    gw, client = failing
    gw.json("ERRORS")  # the model is loaded before the failure
    client.failure = failure
    body = error(gw.get("ERRORS"), status)
    assert body["details"][0]["code"] == code
    assert body["details"][0]["message"] == failure.message


def test_throttled_kintone_is_503_with_retry_after(failing):
    gw, client = failing
    client.failure = KintoneThrottled(429, "GAIA_TO04", "Too many requests.", retry_after=7)
    response = gw.get("ERRORS")
    assert error(response, 503)["details"][0]["code"] == "GAIA_TO04"
    assert response.headers["Retry-After"] == "7"


def test_an_unexpected_error_is_a_500_without_internals(failing, caplog):
    gw, client = failing
    client.failure = RuntimeError("secret internals at /srv/app.py line 3")
    response = gw.get("ERRORS")
    body = error(response, 500)
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["code"] == "InternalError"
    assert any("Unexpected error" in record.message for record in caplog.records)


def test_refused_credentials_are_502(start_gateway, server, app_id):
    settings = replace(kintone_settings(server.url, (app_id,)), password=Secret("wrong"))
    gw = start_gateway([app_id], kintone=settings)
    body = error(gw.get(""), 502)
    assert body["details"][0]["code"] == "CB_WA01"


def test_unreachable_kintone_is_503(start_gateway):
    gw = start_gateway([], kintone=kintone_settings("http://127.0.0.1:9", connect_timeout=0.5))
    error(gw.get("$metadata"), 503)


def test_a_throttling_kintone_is_503(start_gateway, sandbox, server, app_id):
    gw = start_gateway([app_id])
    gw.json("ERRORS")
    sandbox.faults = Faults(rate_429=1.0)
    try:
        body = error(gw.get("ERRORS"), 503)
    finally:
        sandbox.faults = Faults()
    assert body["details"][0]["code"] == "GAIA_TO04"


def test_a_key_beyond_int64_is_a_bad_request(gw):
    error(gw.get("ERRORS(33595306945124173860569088)"), 400)
