"""The security layer on the real gateway (``gateway.web.create_app``) in front of the sandbox:
refusals in the gateway's OData error format, one OData-Version header, data for a valid
authtoken, the audit line."""

from __future__ import annotations

import json
import logging
import time

import pytest
import requests

from gateway.kintone import KintoneClient, RetryPolicy
from gateway.security import Rights, add_user
from gateway.security.errors import CHALLENGE
from gateway.settings import AuthScheme, KintoneSettings, Secret, Settings
from gateway.web import create_app
from tests.conftest import ADMIN
from tests.security.conftest import basic, settings_of, token_header

SET = "SECURED"  # the entity set of the app with that code
FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}


@pytest.fixture(scope="module")
def app_id(server) -> int:
    body = {"name": "Security test", "code": SET, "fields": FIELDS,
            "records": [{"title": {"value": "first"}}, {"title": {"value": "second"}}]}
    response = requests.post(f"{server.url}/__sandbox/apps", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["app"]


@pytest.fixture
def gateway(serve, server, app_id):
    def start(**sections: dict[str, str]):
        base = settings_of({"triggers": {"database": ":memory:"}, **sections})
        kintone = KintoneSettings(url=server.url, auth_scheme=AuthScheme.PASSWORD,
                                  user=ADMIN[0], password=Secret(ADMIN[1]), apps=(app_id,))
        settings, token = add_user(Settings(kintone, base.gateway, base.sections), "reader",
                                   Rights.parse("GET:*"))
        client = KintoneClient(settings.kintone, retry=RetryPolicy(retries=0))
        return serve(settings, app=create_app(settings, client=client)), token

    return start


def test_a_valid_token_reads_the_data(gateway):
    gw, token = gateway()
    reply = gw.get(f"/api.rsc/{SET}", basic("reader", token))
    assert reply.status == 200
    assert sorted(row["title"] for row in reply.json()["value"]) == ["first", "second"]
    assert reply.headers.get_all("OData-Version") == ["4.0"]
    assert reply.header("X-Content-Type-Options") == "nosniff"


def test_refusals_are_odata_errors_with_one_odata_version(gateway):
    gw, token = gateway()
    missing = gw.get(f"/api.rsc/{SET}")
    assert missing.status == 401
    assert missing.header("WWW-Authenticate") == CHALLENGE
    assert missing.json()["error"]["code"] == "Unauthorized"
    assert missing.headers.get_all("OData-Version") == ["4.0"]
    in_url = gw.get(f"/api.rsc/@{token}/{SET}")
    assert in_url.status == 401
    assert token not in in_url.body.decode()
    write = gw.call("POST", f"/api.rsc/{SET}", token_header(token), body=b"{}")
    assert write.status == 403
    assert write.headers.get_all("OData-Version") == ["4.0"]


def test_the_token_in_the_path_when_allowed(gateway):
    gw, token = gateway(Application={"AllowAuthtokenInURL": "true"})
    reply = gw.get(f"/api.rsc/@{token}/{SET}")
    assert reply.status == 200
    assert len(reply.json()["value"]) == 2


def test_the_audit_line_of_a_streamed_collection(gateway, caplog):
    caplog.set_level(logging.INFO, "gateway.audit")
    gw, token = gateway()
    reply = gw.get(f"/api.rsc/{SET}", token_header(token))
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(r.getMessage()) for r in caplog.records
                 if r.name == "gateway.audit" and f"/{SET}" in r.getMessage()]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    (line,) = lines
    assert (line["user"], line["status"], line["bytes"]) == ("reader", 200, len(reply.body))


def test_the_token_as_query_parameter_when_allowed(gateway):
    gw, token = gateway(Application={"AllowAuthtokenInURL": "true"})
    reply = gw.get(f"/api.rsc/{SET}?@authtoken={token}")
    assert reply.status == 200, reply.body
