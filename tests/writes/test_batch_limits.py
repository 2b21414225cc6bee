"""``$batch`` is bounded (issue 13 A4): requests per batch, no batch in a batch, the reply's size;
and its requests run in the batch's own slot of the user's concurrent requests."""

from __future__ import annotations

import pytest

from gateway.settings import Section
from tests.gateway.conftest import values
from tests.writes.conftest import call, error, ok

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
ROWS = 300


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, [values(title="t" * 100) for _ in range(ROWS)], name="Notes",
                    code="NOTES")[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    """One request at a time per user; batches of 5 requests and 64 KB of reply at most."""
    return start_writer([app], sections={
        "security": Section("security", {"maxconcurrent": "1"}),
        "writes": Section("writes", {"maxbatchrequests": "5", "maxbatchreplybytes": "65536",
                                          "idempotencydatabase": ":memory:"}),
    })


def get(n: int, url: str = "NOTES?$top=3") -> dict:
    return {"id": str(n), "method": "GET", "url": url}


def test_a_user_limited_to_one_request_can_use_batch(gw):
    responses = ok(call(gw, "POST", "$batch", {"requests": [get(1), get(2)]}))["responses"]
    assert [r["status"] for r in responses] == [200, 200]
    assert len(responses[1]["body"]["value"]) == 3


def test_more_requests_than_the_setting_are_refused_before_any_runs(gw):
    refused = error(call(gw, "POST", "$batch", {"requests": [get(n) for n in range(6)]}), 400)
    assert "MaxBatchRequests" in refused["message"]


def test_a_batch_in_a_batch_is_refused(gw):
    inner = {"id": "in", "method": "POST", "url": "$batch", "body": {"requests": [get(1)]}}
    responses = ok(call(gw, "POST", "$batch", {"requests": [inner, get(2)]}))["responses"]
    assert responses[0]["status"] == 400
    assert "another $batch" in responses[0]["body"]["error"]["message"]
    assert responses[1]["status"] == 200


def test_the_reply_is_capped_and_the_reads_past_it_are_refused(gw):
    """Each read of 150 records is ~40 KB: the second no longer fits in 64 KB."""
    big = [get(n, "NOTES?$top=150") for n in range(3)]
    assert 35_000 < len(call(gw, "GET", "NOTES?$top=150").content) < 60_000
    response = call(gw, "POST", "$batch", {"requests": big})
    responses = ok(response)["responses"]
    assert [r["status"] for r in responses] == [200, 507, 507]
    assert responses[1]["body"]["error"]["code"] == "BatchReplyTooLarge"
    assert len(response.content) < 65536 + 4096
