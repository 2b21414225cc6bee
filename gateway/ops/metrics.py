"""``/metrics`` in the Prometheus text format, protected like the API (address, authtoken).

What is counted: requests by route, method and status, their latency, requests in progress,
Kintone calls (retries included), failed Kintone calls by status, retries, throttling answers,
refusals by the gateway's own rate limits, trigger webhook deliveries by outcome, and the depth
of the trigger delivery queue (read from the trigger store at each scrape: with ``[Cluster]
Redis`` it is every instance's queue). All but the requests' and the queue's come from the app's
event stream (``gateway.events``).

Under gunicorn ``PROMETHEUS_MULTIPROC_DIR`` is set (``gateway.ops.gunicorn_conf``): every worker
then writes its values to files there and a scrape, whichever worker answers it, adds them up.
Without it (tests, the demo), each app counts in its own registry.
"""

from __future__ import annotations

import os
from typing import Protocol

from flask import Blueprint, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from ..events import (
    RATE_LIMITS,
    DeliveryTried,
    KintoneCallFailed,
    KintoneCallMade,
    KintoneCallRetried,
    RequestRefused,
    Stream,
)

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
EXTENSION = "kintone_gateway.metrics"
QUEUE_EXTENSION = "kintone_gateway.metrics.queue"  # the trigger delivery queue, or None
UNMATCHED = "(unmatched)"  # the route label of a URL no route matched, so 404s stay one series
# Labels come from known values only: a client sending made-up methods (from any address, the
# refused ones included) must not grow the metrics by a series each.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "MERGE", "DELETE", "OPTIONS"})
OTHER_METHOD = "(other)"
# Exports may stream for minutes: the buckets reach far beyond a typical API's.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

blueprint = Blueprint("ops_metrics", __name__)


class QueueDepth(Protocol):
    """A delivery queue as the metrics see it (``triggers.store.DeliveryQueue``)."""

    def depth(self) -> int:
        """How many deliveries are pending."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter("gateway_http_requests", "HTTP requests answered",
                                ["route", "method", "status"], registry=registry)
        self.latency = Histogram("gateway_http_request_duration_seconds",
                                 "Time from a request's arrival to its last byte sent",
                                 ["route", "method"], buckets=LATENCY_BUCKETS,
                                 registry=registry)
        self.in_progress = Gauge("gateway_http_requests_in_progress", "Requests being served",
                                 multiprocess_mode="livesum", registry=registry)
        self.kintone_calls = Counter("gateway_kintone_calls",
                                     "HTTP calls to Kintone, retries included",
                                     registry=registry)
        self.kintone_failures = Counter("gateway_kintone_failures",
                                        "Failed Kintone calls by HTTP status (503: no answer)",
                                        ["status"], registry=registry)
        self.kintone_retries = Counter("gateway_kintone_retries",
                                       "Failed Kintone calls sent again", registry=registry)
        self.kintone_throttled = Counter("gateway_kintone_throttled",
                                         "Kintone answers saying too many requests (429)",
                                         registry=registry)
        self.refusals = Counter("gateway_rate_limit_refusals",
                                "Requests refused by the gateway's own rate limits",
                                ["limit"], registry=registry)
        self.deliveries = Counter("gateway_trigger_deliveries",
                                  "Attempts to send a trigger notification, by outcome "
                                  "(delivered, retry, dead)", ["outcome"], registry=registry)
        # Every worker reads the same shared queue: the latest reading is the depth.
        self.trigger_queue_depth = Gauge("gateway_trigger_queue_depth",
                                         "Webhook deliveries waiting to be sent",
                                         multiprocess_mode="mostrecent", registry=registry)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """``route``: a URL rule of the app (or ``UNMATCHED``); ``method`` as the client sent it."""
        method = method if method in KNOWN_METHODS else OTHER_METHOD
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def subscribe(self, events: Stream) -> None:
        """Count what ``events`` tells of."""
        events.subscribe(KintoneCallMade, self.kintone_call)
        events.subscribe(KintoneCallFailed, self.kintone_failure)
        events.subscribe(KintoneCallRetried, self.kintone_retry)
        events.subscribe(RequestRefused, self.refusal)
        events.subscribe(DeliveryTried, self.delivery)

    def kintone_call(self, _call: KintoneCallMade) -> None:
        self.kintone_calls.inc()

    def kintone_failure(self, failure: KintoneCallFailed) -> None:
        self.kintone_failures.labels(str(failure.status)).inc()
        if failure.throttled:
            self.kintone_throttled.inc()

    def kintone_retry(self, _retry: KintoneCallRetried) -> None:
        self.kintone_retries.inc()

    def refusal(self, refused: RequestRefused) -> None:
        if refused.reason in RATE_LIMITS:  # the others are seen in the requests' statuses
            self.refusals.labels(refused.reason).inc()

    def delivery(self, tried: DeliveryTried) -> None:
        self.deliveries.labels(tried.outcome).inc()

    def exposition(self, queue: QueueDepth | None = None) -> bytes:
        """The metrics as text; ``queue``'s depth is read now, the queue being the store's."""
        if queue is not None:
            self.trigger_queue_depth.set(queue.depth())
        if os.environ.get(MULTIPROCESS_VARIABLE):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


@blueprint.get("/metrics")
def metrics() -> Response:
    queue = current_app.extensions.get(QUEUE_EXTENSION)
    return Response(current_app.extensions[EXTENSION].exposition(queue),
                    content_type=CONTENT_TYPE_LATEST)
