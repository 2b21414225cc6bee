"""``$bulk`` streams its per-row results (issue 13 A5, issue 18 item 4): each chunk's results
reach the client as soon as Kintone has written it, and an ``Idempotency-Key`` still replays the
whole reply once it has all been sent."""

from __future__ import annotations

import json
import threading
import time

import pytest

from gateway.events import KintoneCallMade
from gateway.settings import Section
from tests.writes.conftest import call, ok

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
ROWS = 300  # three Kintone chunks


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, name="Streamed", code="STREAMED")[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    writes = Section("writes", {"idempotencydatabase": ":memory:"})
    gw = start_writer([app], sections={"writes": writes})
    gw.calls = []
    gw.gate = None  # a threading.Event holding back Kintone calls after the first

    def observe(_call: KintoneCallMade) -> None:
        gw.calls.append(1)
        if gw.gate is not None and len(gw.calls) > 1:
            gw.gate.wait(5)

    gw.client.events.subscribe(KintoneCallMade, observe)
    return gw


def test_the_first_results_arrive_before_the_last_chunk_is_written(gw):
    ok(call(gw, "POST", "STREAMED/$bulk", [{"title": "warm-up"}]))  # the model is read
    gw.calls.clear()
    gw.gate = threading.Event()
    try:
        response = call(gw, "POST", "STREAMED/$bulk", [{"title": f"t{n}"} for n in range(ROWS)],
                        stream=True)
        assert response.status_code == 200
        assert "Content-Length" not in response.headers
        assert response.headers["Transfer-Encoding"] == "chunked"
        pieces = response.iter_content(chunk_size=None)
        first = next(pieces)
        # Kintone calls after the first are held back: the first chunk's results came alone.
        assert len(gw.calls) < ROWS // 100
        assert first.startswith(b'{"results":[{"index":0,"status":201,')
    finally:
        gw.gate.set()
    body = json.loads(b"".join([first, *pieces]))
    assert [r["index"] for r in body["results"]] == list(range(ROWS))
    assert body["inserted"] == ROWS and body["updated"] == body["failed"] == 0
    assert len(gw.calls) == ROWS // 100
    gw.gate = None


def test_a_client_leaving_mid_stream_stops_the_load(gw, admin, app):
    def total() -> int:
        return int(admin.ok("GET", "records", params={
            "app": app, "totalCount": "true", "query": "limit 1"})["totalCount"])

    before = total()
    gw.calls.clear()
    gw.gate = threading.Event()
    try:
        response = call(gw, "POST", "STREAMED/$bulk", [{"title": f"g{n}"} for n in range(ROWS)],
                        stream=True)
        assert next(response.iter_content(chunk_size=None)).startswith(b'{"results":[')
        response.close()  # the client leaves with the second chunk held back
    finally:
        gw.gate.set()
        gw.gate = None
    time.sleep(0.5)
    assert total() - before < ROWS


def test_a_streamed_reply_is_replayed_whole_for_its_idempotency_key(gw):
    rows = [{"title": "kept"}, {}, {"title": "kept too"}]
    headers = {"Idempotency-Key": "streamed-1"}
    first = call(gw, "POST", "STREAMED/$bulk", rows, headers=headers)
    assert ok(first)["inserted"] == 2 and ok(first)["failed"] == 1
    calls = len(gw.calls)
    again = call(gw, "POST", "STREAMED/$bulk", rows, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert len(gw.calls) == calls
