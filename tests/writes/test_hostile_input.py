"""Hostile input gets a clear 400, never a 500: expressions and JSON bodies nested too deep,
``$batch`` inside ``$batch``."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import requests

from tests.writes.conftest import call, error, ok

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
SET = "Hostile"
DEEP_FILTERS = {
    "not": "not " * 800 + "true",
    "or": "true or " * 500 + "true",
    "minus": "Id eq " + "-" * 3000 + "1",
    "tolower": "tolower(" * 2000 + "title" + ")" * 2000 + " eq 'a'",
}


@pytest.fixture(scope="module")
def gw(start_writer, make_app):
    app, _ = make_app(FIELDS, [{"title": {"value": "one"}}], name=SET)
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
    assert "cannot contain a $batch" in json.dumps(response["body"])
