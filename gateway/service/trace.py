"""What one request spent where, and what it asked Kintone: for its ``Server-Timing`` header and
the administrators' debug headers (``web/timing.py``).

A request's ``Trace`` is held in a context variable while its view runs (``tracing``): the read
path adds to it without being handed it, and the read-ahead threads, which run in a copy of the
request's context, add their Kintone calls too. Outside a traced request every function here
does nothing. Measuring is a clock read at each end of a span or a Kintone call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from time import perf_counter

from odata_query import ast

_CURRENT: ContextVar[Trace | None] = ContextVar("kintone_gateway.trace", default=None)


@dataclass(frozen=True)
class Planned:
    """The first read a request planned: what Kintone was asked and what the gateway checked."""

    query: str | None  # the Kintone query without paging bounds (None: no record query)
    residual: ast._Node | None  # what the gateway evaluated on each entity (None: nothing)
    paging: str | None = None  # e.g. ``seek; 500 per call``


@dataclass
class Trace:
    started: float = field(default_factory=perf_counter)
    spans: dict[str, float] = field(default_factory=dict)  # name -> seconds
    # Kintone calls: start, end (a clock of their own: only their lengths and overlaps count)
    calls: list[tuple[float, float]] = field(default_factory=list)
    planned: Planned | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        """Add the time the block takes to ``name`` (spans of one name add up)."""
        start = perf_counter()
        try:
            yield
        finally:
            self.spans[name] = self.spans.get(name, 0.0) + perf_counter() - start

    def kintone_call(self, start: float, end: float) -> None:
        with self._lock:  # read-ahead threads report theirs too
            self.calls.append((start, end))

    def kintone(self) -> tuple[float, int]:
        """Seconds during which at least one Kintone call was in flight, and how many calls
        ended, so far."""
        with self._lock:
            calls = sorted(self.calls)
        busy, until = 0.0, float("-inf")
        for start, end in calls:
            if end > until:
                busy += end - max(start, until)
                until = end
        return busy, len(calls)


@contextmanager
def tracing() -> Iterator[Trace]:
    """A trace for the block (a request's view), current while it runs."""
    trace = Trace()
    token = _CURRENT.set(trace)
    try:
        yield trace
    finally:
        _CURRENT.reset(token)


@contextmanager
def span(name: str) -> Iterator[None]:
    """``Trace.span`` on the current trace, if any."""
    trace = _CURRENT.get()
    if trace is None:
        yield
        return
    with trace.span(name):
        yield


def kintone_call(start: float, end: float) -> None:
    """One Kintone call made from ``start`` to ``end`` (seconds of a monotonic clock)."""
    trace = _CURRENT.get()
    if trace is not None:
        trace.kintone_call(start, end)


def planned(query: str | None, residual: ast._Node | None, paging: str | None = None) -> None:
    """Note a read's plan; the first one noted is the request's (later ones are $expand's)."""
    trace = _CURRENT.get()
    if trace is not None and trace.planned is None:
        trace.planned = Planned(query, residual, paging)
