"""A ``$batch`` reply is streamed response by response: the memory a batch holds is bounded by
one response (``[writes] MaxBatchResponseBytes``), not by its reply."""

from __future__ import annotations

import tracemalloc

import pytest

from gateway.settings import Section
from tests.gateway.conftest import values
from tests.writes.conftest import call

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
RESPONSE_BYTES = 48 * 1024
PAGE = "STREAMED?$top=100"  # ~40 KB; the whole set is ~60 KB
REQUESTS = 100


@pytest.fixture(scope="module")
def gw(start_writer, make_app):
    app, _ = make_app(FIELDS, [values(title="t" * 100) for _ in range(150)], code="STREAMED")
    return start_writer([app], sections={"writes": Section("writes", {
        "maxbatchrequests": str(REQUESTS), "maxbatchresponsebytes": str(RESPONSE_BYTES),
        "idempotencydatabase": ":memory:"})})


def streamed(gw, requests: int) -> tuple[int, int]:
    """The size of a batch of ``requests`` reads of the whole set, and the peak of memory
    traced while it was sent (gateway, sandbox and client all run in this process)."""
    batch = {"requests": [{"id": str(n), "method": "GET", "url": PAGE}
                          for n in range(requests)]}
    size, tail = 0, b""
    tracemalloc.start()
    try:
        with call(gw, "POST", "$batch", batch, stream=True) as response:
            assert response.status_code == 200
            for chunk in response.iter_content(16 * 1024):
                size += len(chunk)
                tail = (tail + chunk)[-64:]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tail.endswith(b"}]}")
    return size, peak


def test_a_reply_many_times_larger_than_a_response_streams_in_bounded_memory(gw):
    one = len(call(gw, "GET", PAGE).content)
    assert 30_000 < one < RESPONSE_BYTES
    small, small_peak = streamed(gw, 10)
    large, large_peak = streamed(gw, REQUESTS)
    assert large > REQUESTS * one > 3_000_000 and large > 9 * small
    # Ten times the reply, about the same memory: a response at a time (plus noise such as
    # the log records pytest keeps), where holding the reply would take 3 MB more.
    assert large_peak < small_peak + 2 * RESPONSE_BYTES, (small_peak, large_peak)


def test_a_response_larger_than_the_setting_is_refused_alone(gw):
    assert len(call(gw, "GET", "STREAMED").content) > RESPONSE_BYTES
    batch = {"requests": [{"id": "big", "method": "GET", "url": "STREAMED"},
                          {"id": "page", "method": "GET", "url": PAGE}]}
    responses = call(gw, "POST", "$batch", batch).json()["responses"]
    assert [r["status"] for r in responses] == [507, 200]
    assert responses[0]["body"]["error"]["code"] == "BatchReplyTooLarge"
    assert "MaxBatchResponseBytes" in responses[0]["body"]["error"]["message"]
    assert len(responses[1]["body"]["value"]) == 100
