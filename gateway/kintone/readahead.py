"""Reading Kintone pages one ahead: while the caller works through one page (converting and
sending it), the next one is fetched in a background thread, so Kintone's time and the
gateway's overlap instead of adding up.

At most one fetch per reader runs ahead, and only one the reader said it will need; it runs in a
copy of the caller's context (the request's audit line counts it), and its Kintone call takes a
slot of the transport's concurrency cap like any other. A reader that stops early waits for the
fetch in flight, so nothing outlives it (and a cursor is released after its last use).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

P = TypeVar("P")

# Kintone's own limit of concurrent calls per domain: the transport's cap is at most this, and
# a fetch waiting for a thread is run by the reader itself (see ``Ahead.result``).
_POOL = ThreadPoolExecutor(max_workers=100, thread_name_prefix="kintone-read-ahead")
_START_WAIT = 0.05  # seconds; a busy pool leaves the fetch to the reader (``Ahead.result``)


class Ahead(Generic[P]):
    """One fetch started in the background."""

    def __init__(self, fetch: Callable[[], P]) -> None:
        self._fetch = fetch
        started = threading.Event()
        self._future: Future[P] = _POOL.submit(contextvars.copy_context().run, _signalled,
                                               started, fetch)
        # Until the fetch has sent its call, let it have the interpreter: otherwise the caller,
        # busy converting a page, holds the GIL for a whole switch interval (5 ms) first, and
        # the fetch starts when the page is nearly done instead of overlapping it. Once the
        # fetch waits for Kintone's answer, the GIL comes back here.
        started.wait(_START_WAIT)

    def result(self) -> P:
        """The page (or the fetch's error); fetched here if no thread has taken it up yet."""
        if self._future.cancel():
            return self._fetch()
        return self._future.result()

    def settle(self) -> None:
        """For a reader that stops: wait for the fetch if it runs; its page and error go unread."""
        if not self._future.cancel():
            self._future.exception()


def _signalled(started: threading.Event, fetch: Callable[[], P]) -> P:
    started.set()
    return fetch()


def pages(first: P, following: Callable[[P], Callable[[], P] | None],
          ahead: Callable[[P], bool]) -> Generator[P, None, None]:
    """``first`` and the pages after it: ``following(page)`` is the fetch of the next page, or
    None after the last; when ``ahead(page)``, that fetch starts before ``page`` is handed out.
    Close it when stopping early: that waits for the fetch in flight."""
    page = first
    while True:
        fetch = following(page)
        if fetch is None:
            yield page
            return
        if not ahead(page):
            yield page
            page = fetch()
            continue
        fetching = Ahead(fetch)
        try:
            yield page
        except GeneratorExit:
            fetching.settle()
            raise
        page = fetching.result()
