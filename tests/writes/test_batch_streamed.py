"""A ``$batch`` reply is streamed response by response: the memory a batch holds is bounded by
one response (``[writes] MaxBatchResponseBytes``), not by its reply."""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tracemalloc

import pytest
import requests as requests_

from gateway.settings import Section
from tests.gateway.conftest import values
from tests.writes.conftest import call

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
RESPONSE_BYTES = 48 * 1024
PAGE = "STREAMED?$top=100"  # ~40 KB; the whole set is ~60 KB
REQUESTS = 100
SAMPLE_EVERY = 32  # chunks of 16 KiB: about 8 samples of a large reply, each after a full GC
ALONE = "GATEWAY_TEST_ALONE"  # the test a fresh process runs alone


@pytest.fixture(scope="module")
def gw(start_writer, make_app):
    app, _ = make_app(FIELDS, [values(title="t" * 100) for _ in range(150)], code="STREAMED")
    return start_writer([app], sections={"writes": Section("writes", {
        "maxbatchrequests": str(REQUESTS), "maxbatchresponsebytes": str(RESPONSE_BYTES),
        "idempotencydatabase": ":memory:"})})


def json_batch(requests: int) -> tuple[dict, bytes]:
    """A JSON batch of ``requests`` reads of ``PAGE``, and how its reply ends."""
    body = {"requests": [{"id": str(n), "method": "GET", "url": PAGE} for n in range(requests)]}
    return {"json": body}, b"}]}"


def multipart_batch(requests: int) -> tuple[dict, bytes]:
    """The same batch as multipart/mixed."""
    part = ("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            f"GET {PAGE} HTTP/1.1\r\nAccept: application/json\r\n\r\n")
    body = "".join(f"--b\r\n{part}\r\n" for _ in range(requests)) + "--b--\r\n"
    return {"data": body.encode(), "headers": {"Content-Type": "multipart/mixed; boundary=b"}
            }, b"--\r\n"


def alone(request: pytest.FixtureRequest) -> bool:
    """Whether this process runs only this test; if not, the test is run in a fresh process,
    which must pass. Memory traced in a process that ran the suite would also count what
    earlier tests' threads (their gateways' pollers and reapers, the sandbox serving them)
    allocate and keep meanwhile: 1.8 MB once, on a slower machine."""
    test = request.node.nodeid
    if os.environ.get(ALONE) == test:
        return True
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
                         env={**os.environ, ALONE: test}, cwd=request.config.rootpath,
                         capture_output=True, text=True, timeout=100)
    assert run.returncode == 0 and "1 passed" in run.stdout, \
        run.stdout[-4000:] + run.stderr[-2000:]
    return False


def streamed(gw, batch: tuple[dict, bytes]) -> tuple[int, int]:
    """The size of the reply to ``batch``, and the median of the memory traced in this process
    (gateway, sandbox and client; allocated since the request began and still live) at every
    ``SAMPLE_EVERY``-th chunk: what the batch holds while it is sent. A reply held whole, or
    built before its first byte, raises every sample. Each sample follows a full collection,
    so that garbage never counts as held; the median ignores what the process's other threads
    allocate for an instant."""
    request, ending = batch
    request["headers"] = {**gw.auth, **request.get("headers", {})}
    size, tail, held = 0, b"", []
    tracemalloc.start()
    try:
        with requests_.post(gw.url("$batch"), stream=True, timeout=300, **request) as response:
            assert response.status_code == 200
            for number, chunk in enumerate(response.iter_content(16 * 1024)):
                size += len(chunk)
                tail = (tail + chunk)[-64:]
                if number % SAMPLE_EVERY == 0:
                    gc.collect()
                    held.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert tail.endswith(ending)
    return size, int(statistics.median(held))


@pytest.mark.parametrize("batch", [json_batch, multipart_batch])
def test_a_reply_many_times_larger_than_a_response_streams_in_bounded_memory(gw, batch,
                                                                           request):
    if not alone(request):
        return
    one = len(call(gw, "GET", PAGE).content)
    assert 30_000 < one < RESPONSE_BYTES
    small, small_held = streamed(gw, batch(10))
    large, large_held = streamed(gw, batch(REQUESTS))
    assert large > REQUESTS * one > 3_000_000 and large > 9 * small
    # Ten times the reply, little more memory: a response at a time (and what grows with
    # the requests anyway: their log records, the batch's statuses for idempotent replays,
    # the test client's query log), where holding the reply would take all of its 3.6 MB more.
    assert large_held - small_held < (large - small) / 3, (small_held, large_held)


@pytest.mark.parametrize(("batch", "second"), [(json_batch, b'{"id":"1"'),
                                               (multipart_batch, b"--b")])
def test_responses_are_sent_before_the_later_requests_run(gw, batch, second):
    """The client has the first response whole while most requests have not run yet."""
    request, _ = batch(REQUESTS)
    request["headers"] = {**gw.auth, **request.get("headers", {})}
    before = len(gw.client.queries)
    received = b""
    with requests_.post(gw.url("$batch"), stream=True, timeout=300, **request) as response:
        for chunk in response.iter_content(None):
            received += chunk
            start = received.find(b"200 OK" if second == b"--b" else b'{"id":"0"')
            if start >= 0 and received.find(second, start + 10) >= 0:
                break
        ran = len(gw.client.queries) - before
    assert 1 <= ran < REQUESTS // 2, ran


def test_a_response_larger_than_the_setting_is_refused_alone(gw):
    assert len(call(gw, "GET", "STREAMED").content) > RESPONSE_BYTES
    batch = {"requests": [{"id": "big", "method": "GET", "url": "STREAMED"},
                          {"id": "page", "method": "GET", "url": PAGE}]}
    responses = call(gw, "POST", "$batch", batch).json()["responses"]
    assert [r["status"] for r in responses] == [507, 200]
    assert responses[0]["body"]["error"]["code"] == "BatchReplyTooLarge"
    assert "MaxBatchResponseBytes" in responses[0]["body"]["error"]["message"]
    assert len(responses[1]["body"]["value"]) == 100
