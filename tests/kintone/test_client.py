"""The Kintone client against the sandbox over HTTP: auth schemes, guest spaces, retries,
method override, typed errors, secrets, chunked writes, comments and bulk requests."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from types import SimpleNamespace

import pytest
import requests

from gateway.kintone import (
    BulkItem,
    KintoneAuthError,
    KintoneBadRequest,
    KintoneConflict,
    KintoneError,
    KintoneNotFound,
    KintonePermissionError,
    KintoneThrottled,
    KintoneUnavailable,
    KintoneValidationError,
    quote,
)
from gateway.kintone import transport as transport_module
from gateway.sandbox import Sandbox, SandboxConfig, SandboxServer
from gateway.settings import AuthScheme, Secret
from tests.kintone.conftest import ADMIN, FIELDS, records


@pytest.fixture(scope="module")
def app(extension) -> int:
    return extension("apps", {"name": "Client", "fields": FIELDS, "records": records(5)})["app"]


@pytest.fixture
def retries(monkeypatch):
    """The back-off waits the transport asked for; ``retries.then`` runs at the first one."""
    waits: list[float] = []
    state = SimpleNamespace(waits=waits, then=lambda: None)

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            state.then()

    monkeypatch.setattr(transport_module, "time",
                        SimpleNamespace(sleep=sleep, monotonic=time.monotonic))
    return state


def token(extension, app: int, rights=("view", "add", "edit", "delete")) -> str:
    return extension(f"apps/{app}/tokens", {"rights": list(rights)})["token"]


# Authentication


def test_password_authentication(client, app):
    assert client.get_app(app)["name"] == "Client"
    assert len(client.get_records(app).records) == 5


def test_wrong_password_is_a_typed_401(connect, app):
    with pytest.raises(KintoneAuthError) as caught:
        connect(password=Secret("wrong")).get_records(app)
    assert (caught.value.status, caught.value.code) == (401, "CB_WA01")


def test_api_tokens_are_sent_per_app(connect, extension, app):
    other = extension("apps", {"name": "Other", "fields": FIELDS, "records": records(2)})["app"]
    # Ten apps' tokens: sending them all in one call would exceed Kintone's 9.
    tokens = {app: Secret(token(extension, app)), other: Secret(token(extension, other))}
    tokens.update({1000 + n: Secret(f"unused-{n}") for n in range(8)})
    client = connect(auth_scheme=AuthScheme.API_TOKEN, api_tokens=tokens)
    assert len(client.get_records(app).records) == 5
    assert len(client.get_records(other).records) == 2
    assert client.add_records(other, records(1, start=50))[0].revision == 1


def test_a_token_of_another_app_is_a_typed_403(connect, extension, app):
    other = extension("apps", {"name": "Other", "fields": FIELDS})["app"]
    client = connect(auth_scheme=AuthScheme.API_TOKEN,
                     api_tokens={app: Secret(token(extension, other))})
    with pytest.raises(KintonePermissionError) as caught:
        client.get_records(app)
    assert (caught.value.status, caught.value.code) == (403, "GAIA_NO01")


def test_a_token_without_the_right_is_a_typed_403(connect, extension, app):
    client = connect(auth_scheme=AuthScheme.API_TOKEN,
                     api_tokens={app: Secret(token(extension, app, ["view"]))})
    with pytest.raises(KintonePermissionError):
        client.add_records(app, records(1, start=90))


def test_an_unknown_token_is_an_auth_error(connect, app):
    client = connect(auth_scheme=AuthScheme.API_TOKEN, api_tokens={app: Secret("nope")})
    with pytest.raises(KintoneAuthError) as caught:
        client.get_records(app)
    assert caught.value.code == "GAIA_IA02"


def test_an_app_without_a_configured_token_fails_before_calling(connect, app):
    client = connect(auth_scheme=AuthScheme.API_TOKEN, api_tokens={app + 1: Secret("x")})
    with pytest.raises(KintonePermissionError, match=f"No API token is configured for app {app}"):
        client.get_records(app)


def test_oauth_bearer_token(connect, extension, app):
    grant = extension("oauth/tokens", {"user": ADMIN[0], "scopes": ["k:app_record:read"]})
    client = connect(auth_scheme=AuthScheme.OAUTH,
                     oauth_access_token=Secret(grant["access_token"]))
    assert len(client.get_records(app).records) == 5
    with pytest.raises(KintoneAuthError):
        connect(auth_scheme=AuthScheme.OAUTH,
                oauth_access_token=Secret("expired")).get_records(app)


def test_the_domain_basic_layer_is_sent_with_the_user_credentials(connect):
    sandbox = Sandbox(config=SandboxConfig(basic_auth=("gw", "basic-pw")))
    sandbox.directory.add_user(*ADMIN, "Administrator User")
    server = SandboxServer(sandbox).start()
    try:
        with_basic = connect(url=server.url, basic_auth_user="gw",
                             basic_auth_password=Secret("basic-pw"))
        assert with_basic.get_apps() == []
        with pytest.raises(KintoneAuthError, match="Basic authentication") as caught:
            connect(url=server.url).get_apps()
        assert (caught.value.status, caught.value.code) == (401, None)
    finally:
        server.stop()


def test_calls_about_an_app_of_a_guest_space_take_its_path_once_routed(connect, extension):
    space = extension("spaces", {"name": "Guests", "isGuest": True})["id"]
    fields = {**FIELDS, "file": {"type": "FILE", "code": "file", "label": "File"}}
    app = extension("apps", {"name": "Guest app", "space": space, "fields": fields,
                             "records": records(3)})["app"]
    client = connect()
    with pytest.raises(KintoneBadRequest) as caught:
        client.get_records(app)
    assert caught.value.code == "GAIA_IL23"
    assert client.get_space(space, guest=True)["isGuest"] is True
    client.route({app: space})
    assert client.guest_space(app) == space
    assert len(client.get_records(app).records) == 3
    key = client.upload_file("a.txt", b"guest bytes", "text/plain", app=app)
    [ref] = client.add_records(app, [{"title": {"value": "with file"},
                                      "file": {"value": [{"fileKey": key}]}}])
    [file] = client.get_record(app, ref.id)["file"]["value"]
    download = client.download_file(file["fileKey"], app)
    try:
        assert b"".join(download.chunks) == b"guest bytes"
    finally:
        download.close()
    refs = client.bulk_request([BulkItem("PUT", "record", {"app": app, "id": ref.id,
                                                          "record": {"price": {"value": "7"}}})])
    assert refs == [{"revision": "2"}]
    with pytest.raises(KintoneBadRequest, match="GAIA_IL23"):  # an explicit path wins
        client.get_app(app, guest_space=None)


def test_one_request_cannot_touch_apps_of_two_guest_spaces(connect, extension):
    apps = [extension("apps", {"name": f"Guest {n}", "fields": FIELDS, "space": extension(
        "spaces", {"name": f"Guests {n}", "isGuest": True})["id"]})["app"] for n in (1, 2)]
    client = connect()
    client.route({apps[0]: 101, apps[1]: 102})
    items = [BulkItem("POST", "record", {"app": app, "record": {}}) for app in apps]
    with pytest.raises(KintoneBadRequest, match="different guest spaces"):
        client.bulk_request(items)


# Retries


def test_a_throttled_read_is_retried_until_it_succeeds(client, sandbox, app, retries):
    sandbox.faults.rate_429 = 1.0
    retries.then = lambda: setattr(sandbox.faults, "rate_429", 0.0)
    assert len(client.get_records(app).records) == 5
    assert len(retries.waits) == 1


def test_an_unavailable_read_is_retried_until_it_succeeds(client, sandbox, app, retries):
    sandbox.faults.rate_503 = 1.0
    retries.then = lambda: setattr(sandbox.faults, "rate_503", 0.0)
    assert client.get_record(app, 1)["$id"]["value"] == "1"


def test_a_dropped_connection_on_a_read_is_retried(client, sandbox, app, retries):
    sandbox.faults.rate_drop = 1.0
    retries.then = lambda: setattr(sandbox.faults, "rate_drop", 0.0)
    assert client.get_app(app)["appId"] == str(app)


def test_retries_give_up_with_a_typed_error(client, sandbox, app, retries):
    sandbox.faults.rate_429 = 1.0
    with pytest.raises(KintoneThrottled) as caught:
        client.get_records(app)
    assert caught.value.code == "GAIA_TO04"
    assert len(retries.waits) == 3
    assert all(0 < wait <= 0.02 for wait in retries.waits)


def test_a_write_is_not_retried_after_a_503_or_a_lost_answer(client, sandbox, app, retries):
    for fault in ("rate_503", "rate_drop"):
        sandbox.faults = type(sandbox.faults)(**{fault: 1.0})
        with pytest.raises(KintoneUnavailable):
            client.add_records(app, records(1, start=100))
    assert retries.waits == []


def test_a_throttled_write_is_retried_because_kintone_did_not_apply_it(client, sandbox, app,
                                                                        retries):
    sandbox.faults.rate_429 = 1.0
    retries.then = lambda: setattr(sandbox.faults, "rate_429", 0.0)
    [ref] = client.add_records(app, records(1, start=200))
    assert client.get_record(app, ref.id)["sku"]["value"] == "SKU-00200"
    assert len(retries.waits) == 1


def test_no_server_at_all_is_unavailable(connect, retries):
    with pytest.raises(KintoneUnavailable) as caught:
        connect(url="http://127.0.0.1:9", connect_timeout=0.5).get_app(1)
    assert caught.value.code is None
    assert len(retries.waits) == 3


def test_concurrent_requests_are_capped(connect, sandbox, app):
    client = connect(max_concurrent_requests=2)
    sandbox.faults.latency_ms = 100
    threads = [threading.Thread(target=client.get_app, args=(app,)) for _ in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 0.3  # 6 calls, 2 at a time, 0.1 s each


# Encoding


def test_a_long_query_goes_as_post_with_method_override(client, app, caplog):
    skus = [f"SKU-{n:05d}" for n in range(5)] + [f"absent-{n:05d}" for n in range(400)]
    query = f"sku in ({', '.join(quote(s) for s in skus)}) order by $id asc"  # ~ 7 KB of URL
    with caplog.at_level(logging.DEBUG, logger="gateway.kintone"):
        page = client.get_records(app, query, fields=["sku", "$id"], total_count=True)
    assert [r["sku"]["value"] for r in page.records][:5] == skus[:5]
    assert page.total_count == 5
    assert "Kintone POST records -> 200" in caplog.text


def test_array_parameters_are_indexed(client, app):
    page = client.get_records(app, "order by $id asc limit 2", fields=["title", "$id"])
    assert [sorted(r) for r in page.records] == [["$id", "title"], ["$id", "title"]]
    assert page.total_count is None


# Typed errors


def test_not_found_errors(client, app):
    with pytest.raises(KintoneNotFound) as caught:
        client.get_record(app, 999_999)
    error = caught.value
    assert (error.status, error.code) == (404, "GAIA_RE01")
    assert "999999" in error.message and len(error.error_id) >= 10
    with pytest.raises(KintoneNotFound, match="GAIA_AP01"):
        client.get_app(987_654)


def test_validation_errors_carry_the_field_messages(client, app):
    with pytest.raises(KintoneValidationError) as caught:
        client.add_records(app, [{"price": {"value": "abc"}}])
    error = caught.value
    assert (error.status, error.code) == (400, "CB_VA01")
    assert any(key.startswith("records[0]") and "price" in key for key in error.errors)
    with pytest.raises(KintoneValidationError) as caught:
        client.get_records(app, 'title = "unterminated')
    assert "query" in caught.value.errors


def test_a_stale_revision_is_a_conflict(client, app):
    [ref] = client.add_records(app, records(1, start=300))
    client.update_records(app, [{"id": ref.id, "record": {"price": {"value": "1"}}}])
    with pytest.raises(KintoneConflict) as caught:
        client.update_records(app, [{"id": ref.id, "revision": ref.revision,
                                     "record": {"price": {"value": "2"}}}])
    assert (caught.value.status, caught.value.code) == (409, "GAIA_CO02")


def test_errors_are_kintone_errors_with_a_readable_text(client):
    with pytest.raises(KintoneError) as caught:
        client.get_app(987_654)
    assert str(caught.value).startswith("404 GAIA_AP01: ")


def test_secrets_never_reach_logs_or_exceptions(connect, extension, app, caplog, sandbox):
    real_token = token(extension, app)
    secrets = ["wrong-password-1234", real_token, "basic-secret-987", "bogus-token-555"]
    failures: list[BaseException] = []
    calls = [
        lambda: connect(password=Secret(secrets[0]), basic_auth_user="gw",
                        basic_auth_password=Secret(secrets[2])).get_records(app),
        lambda: connect(auth_scheme=AuthScheme.API_TOKEN,
                        api_tokens={app + 1: Secret(real_token)}).get_records(app + 1),
        lambda: connect(auth_scheme=AuthScheme.API_TOKEN,
                        api_tokens={app: Secret(secrets[3])}).get_records(app),
        lambda: connect(auth_scheme=AuthScheme.OAUTH,
                        oauth_access_token=Secret(secrets[3])).get_app(app),
    ]
    sandbox.faults.rate_503 = 0.5  # retries log their failures too
    with caplog.at_level(logging.DEBUG):
        for call in calls:
            try:
                call()
            except KintoneError as error:
                failures.append(error)
    assert len(failures) == len(calls)
    texts = [caplog.text, *("".join(traceback.format_exception(f)) for f in failures),
             *(repr(f) for f in failures), repr(connect(api_tokens={1: Secret(real_token)}))]
    for text in texts:
        for secret in secrets:
            assert secret not in text


# Writes


def test_chunked_writes_of_250_records(client, extension):
    app = extension("apps", {"name": "Chunks", "fields": FIELDS})["app"]
    added = client.add_records(app, records(250))
    assert [r.id for r in added] == list(range(1, 251))
    updated = client.update_records(
        app, [{"id": r.id, "revision": r.revision, "record": {"price": {"value": "7"}}}
              for r in added])
    assert {r.revision for r in updated} == {2}
    upserted = client.update_records(
        app, [{"updateKey": {"field": "sku", "value": f"SKU-{n:05d}"},
               "record": {"title": {"value": "upserted"}}} for n in range(200, 300)],
        upsert=True)
    assert [r.operation for r in upserted] == ["UPDATE"] * 50 + ["INSERT"] * 50
    assert client.get_records(app, "price = 7", total_count=True).total_count == 250
    latest = {r.id: r.revision for r in [*updated, *upserted]}
    client.delete_records(app, [r.id for r in added], [latest[r.id] for r in added])
    assert client.get_records(app, "", total_count=True).total_count == 50


def test_a_failing_chunk_reports_indexes_of_the_whole_write(client, extension):
    app = extension("apps", {"name": "Chunk errors", "fields": FIELDS})["app"]
    batch = records(250)
    batch[180]["price"] = {"value": "not a number"}
    with pytest.raises(KintoneValidationError) as caught:
        client.add_records(app, batch)
    assert any(key.startswith("records[180]") for key in caught.value.errors)
    # Chunks are not atomic together: the first 100 records were written.
    assert client.get_records(app, "", total_count=True).total_count == 100


def test_delete_needs_aligned_revisions(client, app):
    with pytest.raises(ValueError, match="same length"):
        client.delete_records(app, [1, 2], [1])


def test_bulk_request_is_all_or_nothing(client, extension):
    app = extension("apps", {"name": "Bulk", "fields": FIELDS})["app"]
    results = client.bulk_request([
        BulkItem("POST", "records", {"app": app, "records": records(2)}),
        BulkItem("PUT", "record", {"app": app, "id": 1, "record": {"price": {"value": "9"}}}),
    ])
    assert results[0]["ids"] == ["1", "2"] and results[1]["revision"] == "2"
    with pytest.raises(KintoneError, match="Bulk request 1: ") as caught:
        client.bulk_request([
            BulkItem("POST", "record", {"app": app, "record": records(1, start=5)[0]}),
            BulkItem("PUT", "record", {"app": app, "id": 99, "record": {}}),
        ])
    assert caught.value.code == "GAIA_RE01"
    assert client.get_records(app, "", total_count=True).total_count == 2


# Apps, settings, comments


def test_app_settings(client, app):
    fields = client.get_form_fields(app)
    assert fields["properties"]["price"]["type"] == "NUMBER"
    assert "layout" in client.get_form_layout(app)
    assert client.get_process_settings(app)["enable"] is False


def test_get_apps_pages_past_100(connect, extension):
    sandbox = Sandbox()
    sandbox.directory.add_user(*ADMIN, "Administrator User")
    server = SandboxServer(sandbox).start()
    try:
        client = connect(url=server.url)
        for n in range(105):
            _create_app(server.url, f"App {n}")
        apps = client.get_apps()
        assert len(apps) == 105
        assert [a["name"] for a in apps][:2] == ["App 0", "App 1"]
        assert len(client.get_apps(ids=[1, 2, 3])) == 3
    finally:
        server.stop()


def _create_app(url: str, name: str) -> None:
    requests.post(f"{url}/__sandbox/apps", json={"name": name}, timeout=10).raise_for_status()


def test_comments(client, app):
    first = client.add_comment(app, 1, "hello")
    second = client.add_comment(app, 1, "ping", [{"code": ADMIN[0], "type": "USER"}])
    assert second == first + 1
    page = client.get_comments(app, 1, order="asc", limit=1)
    assert page.comments[0]["text"].strip() == "hello"
    assert (page.older, page.newer) == (False, True)
