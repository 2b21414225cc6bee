"""The HTTP layer: concurrency headers, throttling, injected faults, the Basic layer, method
override, parameter encodings and path rules. Faults and settings change the whole sandbox, so
this module runs its own.
"""

from __future__ import annotations

import base64
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.config import SandboxFile, UserSpec, apply_config
from tests.conftest import ADMIN
from tests.kintone_http import Kintone, error_of

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "n": {"type": "NUMBER", "code": "n", "label": "N"},
}


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    sb = Sandbox()
    apply_config(sb, SandboxFile(users=[UserSpec(*ADMIN)]))
    return sb


@pytest.fixture(scope="module")
def server(sandbox):
    srv = SandboxServer(sandbox).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server) -> Kintone:
    return Kintone.with_password(server.url, *ADMIN)


@pytest.fixture(scope="module")
def app(admin) -> int:
    app = admin.make_app(FIELDS)
    admin.ok("POST", "records", {"app": app, "records": [
        {"title": {"value": f"t{i}"}, "n": {"value": str(i)}} for i in range(1, 4)]})
    return app


@pytest.fixture
def faults(server):
    """Set faults through the extension API; always cleared afterwards."""
    def put(**body) -> None:
        response = requests.put(f"{server.url}/__sandbox/faults", json=body, timeout=10)
        assert response.status_code == 200, response.text

    yield put
    put(latency_ms=0, rate_429=0, rate_503=0, rate_drop=0)


def assert_concurrency_headers(response: requests.Response) -> None:
    assert response.headers["X-ConcurrencyLimit-Limit"] == "100"
    assert int(response.headers["X-ConcurrencyLimit-Running"]) >= 1


# --- headers and paths --------------------------------------------------------------------------

def test_every_response_carries_the_concurrency_headers(server, admin, app):
    responses = [
        admin.get("record", {"app": app, "id": 1}),  # success
        admin.get("record", {"app": 99999, "id": 1}),  # 404
        admin.get("record", {"app": app}),  # 400
        requests.get(f"{server.url}/k/v1/record.json", timeout=10),  # 401
        admin.request("GET", "Records"),  # 404, upper case
        requests.post(f"{server.url}/k/v1/record.json", data="{", timeout=10,
                      headers={**admin.headers, "Content-Type": "application/json"}),  # bad JSON
    ]
    assert [r.status_code for r in responses] == [200, 404, 400, 401, 404, 400]
    for response in responses:
        assert_concurrency_headers(response)
        assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    for response in responses[1:]:
        assert response.headers["X-Cybozu-Error"] == response.json()["code"]
    assert error_of(responses[3]) == (401, "CB_AU01")
    assert error_of(responses[5]) == (400, "CB_IJ01")


@pytest.mark.parametrize("path", ["/k/v1/Records.json", "/k/v1/RECORD.json", "/k/v1/records",
                                  "/k/v1/no/such/api.json"])
def test_upper_case_or_unknown_paths_are_404(server, admin, path):
    response = requests.get(f"{server.url}{path}", headers=admin.headers, timeout=10)
    assert response.status_code == 404
    assert_concurrency_headers(response)


def test_too_many_concurrent_requests_get_429_gaia_to04(sandbox, admin, app, faults):
    sandbox.config.concurrency_limit = 2
    faults(latency_ms=300)  # keeps the requests in flight together
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            responses = list(pool.map(
                lambda _: admin.get("record", {"app": app, "id": 1}), range(6)))
    finally:
        sandbox.config.concurrency_limit = 100
    refused = [r for r in responses if r.status_code == 429]
    assert refused and len(refused) < 6
    for response in refused:
        assert response.json()["code"] == "GAIA_TO04"
        assert response.json()["message"] == (
            "The number of concurrent API requests exceeds the limit.")
        assert response.headers["X-Cybozu-Error"] == "GAIA_TO04"
        assert response.headers["X-ConcurrencyLimit-Limit"] == "2"
        assert int(response.headers["X-ConcurrencyLimit-Running"]) > 2
        assert response.headers["Cache-Control"] == "no-cache, no-store, must-revalidate"


# --- injected faults ----------------------------------------------------------------------------

def test_injected_429(admin, app, faults):
    faults(rate_429=1)
    response = admin.get("record", {"app": app, "id": 1})
    assert error_of(response) == (429, "GAIA_TO04")
    assert response.headers["X-Cybozu-Error"] == "GAIA_TO04"
    assert_concurrency_headers(response)


def test_injected_503(admin, app, faults):
    faults(rate_503=1)
    response = admin.get("record", {"app": app, "id": 1})
    assert response.status_code == 503
    assert_concurrency_headers(response)


def test_injected_dropped_connection(admin, app, faults):
    faults(rate_drop=1)
    with pytest.raises(requests.ConnectionError):
        admin.get("record", {"app": app, "id": 1})


def test_injected_latency(admin, app, faults):
    faults(latency_ms=250)
    started = time.monotonic()
    admin.ok("GET", "record", params={"app": app, "id": 1})
    assert time.monotonic() - started >= 0.25


def test_faults_leave_the_extension_api_alone(server, faults):
    faults(rate_503=1)
    assert requests.get(f"{server.url}/__sandbox/faults", timeout=10).status_code == 200


def test_faults_hit_a_share_of_requests(admin, app, faults):
    faults(rate_503=0.5)
    statuses = {admin.get("record", {"app": app, "id": 1}).status_code for _ in range(60)}
    assert statuses == {200, 503}


# --- the Basic layer ----------------------------------------------------------------------------

def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_the_basic_layer_guards_every_request_when_enabled(sandbox, server, admin, app):
    sandbox.config.basic_auth = ("site", "s3cret")
    try:
        refused = admin.get("record", {"app": app, "id": 1})
        assert refused.status_code == 401 and "Basic" in refused.headers["WWW-Authenticate"]
        assert_concurrency_headers(refused)
        wrong = admin.get("record", {"app": app, "id": 1}, headers=basic("site", "nope"))
        assert wrong.status_code == 401
        ok = admin.get("record", {"app": app, "id": 1}, headers=basic("site", "s3cret"))
        assert ok.status_code == 200
        alone = requests.get(f"{server.url}/k/v1/record.json", params={"app": app, "id": 1},
                             headers=basic("site", "s3cret"), timeout=10)
        assert error_of(alone) == (401, "CB_AU01")  # Basic never identifies a Kintone user
    finally:
        sandbox.config.basic_auth = None
    assert admin.get("record", {"app": app, "id": 1}).status_code == 200


# --- method override and parameter encodings ----------------------------------------------------

def test_method_override_turns_a_post_into_a_get(admin, app):
    body = {"app": app, "fields": ["title"], "query": "n >= 2 order by n asc", "totalCount": True}
    overridden = admin.ok("POST", "records", body, headers={"X-HTTP-Method-Override": "GET"})
    assert [r["title"]["value"] for r in overridden["records"]] == ["t2", "t3"]
    assert overridden["totalCount"] == "2"
    assert overridden == admin.ok("GET", "records", body)


def test_method_override_is_ignored_on_other_methods(admin, app):
    body = {"app": app, "id": 3, "record": {"title": {"value": "t3"}}}
    result = admin.ok("PUT", "record", body, headers={"X-HTTP-Method-Override": "GET"})
    assert set(result) == {"revision"}


def test_query_string_arrays_equal_json_bodies(server, admin, app):
    url = f"{server.url}/k/v1/records.json"
    query = "order by $id asc"
    forms = [
        f"app={app}&fields%5B0%5D=title&fields%5B1%5D=%24id&query={query}",
        f"app={app}&fields%5B%5D=title&fields%5B%5D=%24id&query={query}",
        f"app={app}&fields=title&fields=%24id&query={query}",
    ]
    results = [requests.get(f"{url}?{form}", headers=admin.headers, timeout=10).json()
               for form in forms]
    json_body = admin.ok("GET", "records", {"app": app, "fields": ["title", "$id"],
                                            "query": query})
    for result in results:
        assert result == json_body
    assert set(json_body["records"][0]) == {"title", "$id"}


def test_delete_parameters_may_come_in_the_query_string(admin):
    app = admin.make_app(FIELDS)
    admin.ok("POST", "records", {"app": app, "records": [{}, {}, {}]})
    response = admin.request("DELETE", "records",
                             params={"app": app, "ids[0]": 1, "ids[1]": 2, "revisions[0]": 1})
    assert response.status_code == 200 and response.json() == {}
    left = admin.ok("GET", "records", params={"app": app})["records"]
    assert [r["$id"]["value"] for r in left] == ["3"]
