"""What the console shows of recent traffic, kept in memory by this instance: the last audit
lines (each with its request id, and Kintone's error when a call failed), when each user was
last seen, and Kintone's last error.

It reads the audit lines from the app's event stream (``RequestServed``) rather than adding a
store of its own: the audit log is the record of every request, refusals included. The stream is
the app's own, where the ``gateway.audit`` logger is the process's: two apps in one process
(the tests) each see only their own traffic.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..events import KintoneCallFailed, RequestServed, Stream
from ..ops.logs import current_request_id


@dataclass(frozen=True)
class KintoneFailure:
    at: float
    status: int | None
    code: str | None
    error_id: str | None
    message: str


@dataclass(frozen=True)
class Line:
    time: str
    user: str | None
    client_ip: str | None
    method: str
    path: str
    status: int | None
    duration_ms: float
    kintone_calls: int
    request_id: str | None
    failure: KintoneFailure | None

    @property
    def entity_set(self) -> str | None:
        """The first path segment after the service root, without its key or options."""
        rest = self.path.split("?", 1)[0].split("/")
        for index, part in enumerate(rest):
            if part == "api.rsc" and index + 1 < len(rest):
                name = rest[index + 1]
                if name.startswith("@") and index + 2 < len(rest):  # a token in the path
                    name = rest[index + 2]
                return name.split("(", 1)[0] or None
        return None


@dataclass(frozen=True)
class Filter:
    user: str = ""
    status: str = ""  # "", "failed" (4xx/5xx), "refused" (429), or an exact status
    entity_set: str = ""

    def keeps(self, line: Line) -> bool:
        if self.user and (line.user or "").lower() != self.user.lower():
            return False
        if self.entity_set and (line.entity_set or "").lower() != self.entity_set.lower():
            return False
        status = line.status or 0
        if self.status == "failed":
            return status >= 400
        if self.status == "refused":
            return status == 429
        return not self.status or str(status) == self.status


MINUTES = 60  # the charts' span
_DURATIONS_KEPT = 2000  # per minute, for the percentiles


@dataclass
class Minute:
    """One minute of traffic; not frozen: filled in as requests end."""

    requests: int = 0
    errors: int = 0  # answered 5xx
    refusals: int = 0  # answered 429
    kintone_calls: int = 0
    kintone_failures: int = 0
    durations: list[float] = field(default_factory=list)

    def add(self, line: Line) -> None:
        self.requests += 1
        status = line.status or 0
        self.errors += status >= 500
        self.refusals += status == 429
        self.kintone_calls += line.kintone_calls
        if len(self.durations) < _DURATIONS_KEPT:
            self.durations.append(line.duration_ms)

    def percentile(self, share: float) -> float:
        if not self.durations:
            return 0.0
        ordered = sorted(self.durations)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Activity:
    """The app's recent requests and Kintone failures, as its events tell them."""

    def __init__(self, capacity: int) -> None:
        self._lines: deque[Line] = deque(maxlen=capacity)
        self._failures: OrderedDict[str, KintoneFailure] = OrderedDict()
        self._capacity = capacity
        self._last_use: dict[str, str] = {}
        self.last_failure: KintoneFailure | None = None
        self._minutes: dict[int, Minute] = {}
        self._guard = threading.Lock()

    def subscribe(self, events: Stream) -> None:
        events.subscribe(RequestServed, self.served)
        events.subscribe(KintoneCallFailed, self.kintone_failed)

    def kintone_failed(self, failed: KintoneCallFailed) -> None:
        """A Kintone failure subscriber (called in the request's thread)."""
        failure = KintoneFailure(time.time(), failed.status, failed.code, failed.error_id,
                                 failed.message)
        with self._guard:
            self.last_failure = failure
            self._minute(failure.at).kintone_failures += 1
            request_id = current_request_id()
            if request_id is not None:
                self._failures[request_id] = failure
                while len(self._failures) > self._capacity:
                    self._failures.popitem(last=False)

    def served(self, entry: RequestServed) -> None:
        """A request's audit line (published in the thread that finished the request)."""
        request_id = current_request_id()
        with self._guard:
            failure = self._failures.pop(request_id, None) if request_id else None
            line = Line(entry.time, entry.user, entry.client_ip, entry.method, entry.path,
                        entry.status, entry.duration_ms, entry.kintone_calls, request_id,
                        failure)
            self._lines.append(line)
            self._minute(time.time()).add(line)
            if line.user:
                self._last_use[line.user] = line.time

    def recent(self, keep: Filter, limit: int) -> list[Line]:
        with self._guard:
            lines = list(self._lines)
        return list(_take(reversed(lines), keep, limit))

    def last_use(self, user: str) -> str | None:
        return self._last_use.get(user)

    def minutes(self, now: float) -> list[Minute]:
        """The last ``MINUTES`` minutes, oldest first (empty ones included)."""
        current = int(now // 60)
        with self._guard:
            return [self._minutes.get(m) or Minute() for m in range(current - MINUTES + 1,
                                                                     current + 1)]

    def _minute(self, at: float) -> Minute:
        """The minute of ``at`` (with the lock held), forgetting those out of the span."""
        minute = int(at // 60)
        if minute not in self._minutes:
            self._minutes = {m: v for m, v in self._minutes.items() if m > minute - MINUTES}
            self._minutes[minute] = Minute()
        return self._minutes[minute]


def _take(lines: Iterator[Line], keep: Filter, limit: int) -> Iterator[Line]:
    taken = 0
    for line in lines:
        if taken >= limit:
            return
        if keep.keeps(line):
            taken += 1
            yield line
