"""The delivery worker: POSTs queued notifications to their subscribers' callbacks, at least
once.

A delivery is leased while it is being sent, deleted once the callback answered 2xx, and
otherwise sent again after an exponential back-off (``RetrySeconds`` doubled per attempt, at
most ``MaxRetrySeconds``) until ``MaxAttempts``, when it becomes a dead letter. The queue is
durable, so a worker started on the same database (or Redis) after a restart (or a crash: the
lease runs out) goes on where the last one stopped. Callback URLs carry the platform's
signature, so logs and dead letters name only the failure, never the URL.

Each attempt is bounded as a whole (``DeliveryTimeout``, shorter than the lease, so a slow
callback is never sent the same notification twice at once) and reads at most
``MaxAnswerBytes`` of the answer; ``outbound`` checks the callback's addresses again before
connecting. One callback host gets at most half of the threads (at least one): another
notification for a busy host is put back for a moment, not counted as an attempt. Before
sending, the subscription's owner must still exist, be unexpired and have GET on the entity
set; otherwise the notification becomes a dead letter (the subscription is suspended while
that lasts).
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

from ..events import DeliveryTried, Stream
from . import outbound
from .config import TriggerSettings
from .store import Delivery, DeliveryQueue

log = logging.getLogger("gateway.triggers")
IDLE_CHECK = 1.0  # seconds: how often an idle worker looks for work queued by another process
BUSY_HOST_WAIT = 1.0  # seconds a notification for a host using its share of threads waits
_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
# Why the owner of a delivery's subscription may not receive it now (None: it may).
OwnerCheck = Callable[[Delivery], str | None]


class DeliveryWorker:
    def __init__(self, queue: DeliveryQueue, config: TriggerSettings,
                 owner_check: OwnerCheck = lambda _delivery: None,
                 clock: Callable[[], float] = time.time, events: Stream | None = None) -> None:
        self._queue = queue
        self._events = events if events is not None else Stream()  # told of every attempt
        self._config = config
        self._owner_check = owner_check
        self._clock = clock
        self._lease = 2 * config.delivery_timeout + 5
        self._policy = outbound.CallbackPolicy(config.callback_allowed)
        self._per_host = max(1, config.workers // 2)
        self._busy: Counter[str] = Counter()  # attempts running, by callback host
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
        refusal = self._owner_check(delivery)
        if refusal is not None:
            log.warning("Not delivering to %s: the subscription is suspended (%s)",
                        redacted(delivery.callback), refusal)
            self._queue.bury(delivery.id, f"suspended: {refusal}", self._clock())
            return
        host = _host(delivery.callback)
        if not self._take(host):  # not an attempt: back in the queue for a moment
            self._queue.postpone(delivery.id, self._clock() + BUSY_HOST_WAIT)
            return
        try:
            error = self._attempt(delivery)
        finally:
            self._give(host)
        if error is None:
            self._queue.delivered(delivery.id)
            self._events.publish(DeliveryTried("delivered", delivery.attempts + 1, None))
        else:
            self._failed(delivery, error)

    def _take(self, host: str) -> bool:
        """A thread for ``host``, unless it has its share already."""
        with self._wake:
            if self._busy[host] >= self._per_host:
                return False
            self._busy[host] += 1
            return True

    def _give(self, host: str) -> None:
        with self._wake:
            self._busy[host] -= 1
            if not self._busy[host]:
                del self._busy[host]

    def _attempt(self, delivery: Delivery) -> str | None:
        """Why the attempt failed; None when the callback answered 2xx."""
        try:
            callback, address = self._policy.check(delivery.callback,
                                                   self._config.delivery_timeout)
            answer = outbound.post(callback, address, delivery.body, _HEADERS,
                                   deadline=self._config.delivery_timeout,
                                   max_answer=self._config.max_answer_bytes)
        except outbound.CallbackRefused as exc:
            return f"the callback is refused: {exc}"
        except (OSError, http.client.HTTPException) as exc:
            return f"the callback could not be reached ({type(exc).__name__})"
        return None if 200 <= answer.status < 300 else f"the callback answered {answer.status}"

    def _failed(self, delivery: Delivery, error: str) -> None:
        attempts = delivery.attempts + 1
        where = redacted(delivery.callback)
        if attempts >= self._config.max_attempts:
            log.error("Gave up delivering a notification to %s after %d attempts: %s", where,
                      attempts, error)
            self._queue.bury(delivery.id, error, self._clock())
            self._events.publish(DeliveryTried("dead", attempts, error))
            return
        log.warning("Delivery to %s failed (attempt %d): %s", where, attempts, error)
        self._queue.retry(delivery.id, self._clock() + self.backoff(attempts))
        self._events.publish(DeliveryTried("retry", attempts, error))

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts."""
        return min(self._config.max_retry_seconds,
                   self._config.retry_seconds * 2 ** (attempts - 1))


def _host(callback: str) -> str:
    parts = urlsplit(callback)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}"


def redacted(callback: str) -> str:
    """The callback without its query (which holds the signature) and any user info."""
    parts = urlsplit(callback)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"
