"""Hostile input gets a clear 400, never a 500 or a 503: expressions and JSON bodies nested too
deep, ``$batch`` inside ``$batch``, values Kintone cannot hold (lone surrogates, dates out of
range), refused before any Kintone call; the sandbox answers them as Kintone does."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import requests

from tests.writes.conftest import call, error, ok

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
          "since": {"type": "DATE", "code": "since", "label": "Since"},
          "at": {"type": "DATETIME", "code": "at", "label": "At"}}
SET = "Hostile"
DEEP_FILTERS = {
    "not": "not " * 800 + "true",
    "or": "true or " * 500 + "true",
    "minus": "Id eq " + "-" * 3000 + "1",
    "tolower": "tolower(" * 2000 + "title" + ")" * 2000 + " eq 'a'",
}


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, [{"title": {"value": "one"}}], name=SET)[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    return start_writer([app])


def deep_json(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("name", DEEP_FILTERS)
def test_filters_nested_too_deep(gw, name):
    url = f"{SET}?$filter={quote(DEEP_FILTERS[name])}"
    refused = error(call(gw, "GET", url), 400)
    assert refused["target"] == "$filter" and "nested more than" in refused["message"]
    inside = ok(call(gw, "POST", "$batch", {"requests": [
        {"id": "1", "method": "GET", "url": url}]}))["responses"][0]
    assert inside["status"] == 400 and "nested more than" in inside["body"]["error"]["message"]


def test_a_long_but_reasonable_filter_is_answered(gw):
    text = " or ".join(["title eq 'one'"] * 90)
    assert [e["title"] for e in ok(call(gw, "GET", f"{SET}?$filter={quote(text)}"))["value"]] \
        == ["one"]


@pytest.mark.parametrize("method, path", [("POST", SET), ("PATCH", f"{SET}(1)"),
                                          ("POST", f"{SET}/$bulk"), ("POST", "$batch"),
                                          ("POST", "Comments")])
def test_json_bodies_nested_too_deep(gw, method, path):
    for depth in (100_000, 65):
        response = requests.request(method, gw.url(path), data=deep_json(depth), timeout=60,
                                    headers={**gw.auth, "Content-Type": "application/json"})
        assert "nested more than 64" in error(response, 400)["message"], depth


def test_ids_that_are_no_numbers(gw):
    """JSON's NaN and Infinity, which Python's reader takes, are no ids: a 400, not a 500."""
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        response = requests.post(gw.url("Comments"), timeout=60,
                                 data=b'{"AppId": %s, "RecordId": 1, "Text": "x"}' % constant,
                                 headers={**gw.auth, "Content-Type": "application/json"})
        assert "AppId is required" in error(response, 400)["message"], constant


def test_batch_inside_batch(gw):
    inner: dict = {"requests": [{"id": "1", "method": "GET", "url": SET}]}
    for level in range(150):
        inner = {"requests": [{"id": f"b{level}", "method": "POST", "url": "/api.rsc/$batch",
                               "body": inner}]}
    response = requests.post(gw.url("$batch"), data=json.dumps(inner), timeout=60,
                             headers={**gw.auth, "Content-Type": "application/json"})
    assert "nested more than" in error(response, 400)["message"]
    once = {"requests": [{"id": "outer", "method": "POST", "url": "/api.rsc/$batch", "body": {
        "requests": [{"id": "1", "method": "GET", "url": SET}]}}]}
    response = ok(call(gw, "POST", "$batch", once))["responses"][0]
    assert response["status"] == 400
    assert "cannot contain another $batch" in json.dumps(response["body"])


def sent(gw) -> int:
    return len(gw.client.queries)


@pytest.mark.parametrize("text", ["since gt 9999-12-31", "since le 9999-12-31",
                                  "at gt 9999-12-31T23:59:59Z",
                                  "at lt 9999-12-31T20:00:00-10:00"])
def test_dates_kintone_cannot_compare(gw, text):
    before = sent(gw)
    refused = error(call(gw, "GET", f"{SET}?$filter={quote(text)}"), 400)
    assert refused["target"] == "$filter" and "outside the dates Kintone" in refused["message"]
    assert sent(gw) == before
    assert ok(call(gw, "GET", f"{SET}?$filter={quote('since lt 9999-12-30')}"))


def test_values_kintone_cannot_hold(gw, admin, app):
    count = int(admin.ok("GET", "records", params={"app": app, "totalCount": "true"})
                ["totalCount"])
    for body in (b'{"title": "\\ud800x"}', b'{"title": "ok", "since": "9999-12-31"}',
                 b'{"title": "ok", "at": "0001-01-01T00:00:00+09:00"}'):
        response = requests.post(gw.url(SET), data=body, timeout=60,
                                 headers={**gw.auth, "Content-Type": "application/json"})
        assert error(response, 400)["message"], body
    batch = (b'{"requests": [{"id": "1", "method": "GET", '
             b'"url": "Hostile?$filter=title eq \'\\ud800x\'"}]}')
    response = requests.post(gw.url("$batch"), data=batch, timeout=60,
                             headers={**gw.auth, "Content-Type": "application/json"})
    assert "lone surrogate" in error(response, 400)["message"]
    assert int(admin.ok("GET", "records", params={"app": app, "totalCount": "true"})
               ["totalCount"]) == count


def test_the_sandbox_answers_them_as_kintone_does(server, admin, app):
    for query in ('since > "9999-12-31"', 'since <= "9999-12-31"',
                  'at > "9999-12-31T23:59:00Z"', 'at < "0001-01-01T00:00:00+09:00"',
                  'since > FROM_TODAY(99999, YEARS)'):
        response = admin.get("records", params={"app": app, "query": query})
        assert response.status_code == 400, (query, response.text)
        assert response.json()["code"] == "CB_VA01", query  # the query's syntax error
    for body in (b'{"app": %d, "record": {"title": {"value": "\\ud800x"}}}' % app,
                 b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        response = requests.post(f"{server.url}/k/v1/record.json", data=body, timeout=60,
                                 headers={**admin.headers, "Content-Type": "application/json"})
        assert response.status_code == 400 and response.json()["code"] == "CB_IJ01"
