"""The delivery worker: POSTs queued notifications to their subscribers' callbacks, at least
once.

A delivery is leased while it is being sent, deleted once the callback answered 2xx, and
otherwise sent again after an exponential back-off (``RetrySeconds`` doubled per attempt, at
most ``MaxRetrySeconds``) until ``MaxAttempts``, when it becomes a dead letter. The queue is
durable, so a worker started on the same database (or Redis) after a restart (or a crash: the
lease runs out) goes on where the last one stopped. Callback URLs carry the platform's
signature, so logs and dead letters name only the failure, never the URL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from .config import TriggerSettings
from .store import Delivery, DeliveryQueue

log = logging.getLogger("gateway.triggers")
IDLE_CHECK = 1.0  # seconds: how often an idle worker looks for work queued by another process
_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class DeliveryWorker:
    def __init__(self, queue: DeliveryQueue, config: TriggerSettings,
                 clock: Callable[[], float] = time.time) -> None:
        self._queue = queue
        self._config = config
        self._clock = clock
        self._lease = 2 * config.delivery_timeout + 5
        self._wake = threading.Condition()
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._run, name=f"trigger-delivery-{n}",
                                          daemon=True) for n in range(self._config.workers)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop after the deliveries being sent; the others stay queued."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        for thread in self._threads:
            thread.join()

    def wake(self) -> None:
        """New deliveries were queued."""
        with self._wake:
            self._wake.notify_all()

    def _run(self) -> None:
        while not self._stopping:
            try:
                delivery = self._queue.claim(self._clock(), self._lease)
                if delivery is None:
                    self._idle()
                else:
                    self._send(delivery)
            except Exception:  # a broken database (or Redis) must not end the worker for good
                log.exception("Trigger delivery failed unexpectedly")
                self._pause(IDLE_CHECK)  # without asking the store, which may still be broken

    def _idle(self) -> None:
        due = self._queue.next_due()
        self._pause(IDLE_CHECK if due is None else min(IDLE_CHECK, max(0.0, due - self._clock())))

    def _pause(self, seconds: float) -> None:
        with self._wake:
            if not self._stopping:
                self._wake.wait(seconds)

    def _send(self, delivery: Delivery) -> None:
        try:
            response = requests.post(delivery.callback, data=delivery.body, headers=_HEADERS,
                                     timeout=self._config.delivery_timeout,
                                     allow_redirects=False)
            error = None if 200 <= response.status_code < 300 else \
                f"the callback answered {response.status_code}"
        except requests.RequestException as exc:
            error = f"the callback could not be reached ({type(exc).__name__})"
        if error is None:
            self._queue.delivered(delivery.id)
        else:
            self._failed(delivery, error)

    def _failed(self, delivery: Delivery, error: str) -> None:
        attempts = delivery.attempts + 1
        where = redacted(delivery.callback)
        if attempts >= self._config.max_attempts:
            log.error("Gave up delivering a notification to %s after %d attempts: %s", where,
                      attempts, error)
            self._queue.bury(delivery.id, error, self._clock())
            return
        log.warning("Delivery to %s failed (attempt %d): %s", where, attempts, error)
        self._queue.retry(delivery.id, self._clock() + self.backoff(attempts))

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts."""
        return min(self._config.max_retry_seconds,
                   self._config.retry_seconds * 2 ** (attempts - 1))


def redacted(callback: str) -> str:
    """The callback without its query (which holds the signature) and any user info."""
    parts = urlsplit(callback)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"
