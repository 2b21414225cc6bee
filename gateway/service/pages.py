"""One page of a collection: a lazy stream of entities, cut at the page size, with the state the
next page resumes from.

Sources yield ``(entity, position)``: the entity (already filtered) and the state a next page
would resume after it; ``(None, position)`` for what they read but filtered out (a record the
residual rejected, a record without comments), so that a page whose Kintone calls reached its
budget can stop there and resume later with a next link: a filter Kintone cannot evaluate then
costs at most the budget per page, never a scan of the whole app in one response.
The page serves at most ``size`` entities and stops at ``$top``; when it stops because it is
full, ``next_state`` holds the last entity's position (``"at"``). Whether more entities follow is
not known without reading them, and reading them costs a Kintone call, so a full page always gets
a next link, and the last page of a set whose size is a multiple of the page size is empty
(allowed by OData, and what other OData services do).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from itertools import islice
from typing import Any, Self

from ..odata.errors import ODataError

Position = dict[str, Any]
Item = tuple[dict | None, Position]
# What a source yields; closing it releases what the read holds (a Kintone cursor).
Items = Generator[Item, None, None]


@dataclass(frozen=True)
class Window:
    """What the gateway still serves of a query: ``skip`` entities to drop first, ``left`` to
    serve at most (``$top`` minus those served by earlier pages; None = no ``$top``), ``served``
    by earlier pages, ``size`` per page (None = everything in one response)."""

    size: int | None
    skip: int = 0
    left: int | None = None
    served: int = 0

    @property
    def limit(self) -> int | None:
        """The most entities this page may hold (None: no limit)."""
        limits = [n for n in (self.size, self.left) if n is not None]
        return min(limits) if limits else None


@dataclass(frozen=True)
class CallBudget:
    """How many Kintone calls one page may make before it stops with a next link
    (``per_page``), how many one request may make (``per_request``), and ``counter()``: the
    current request's count of calls so far, read by calling it (looked up once a page, as a
    page asks after every entity)."""

    per_page: int
    per_request: int
    counter: Callable[[], Callable[[], int]] = lambda: lambda: 0

    def page(self) -> Callable[[], bool]:
        """For a page starting now: whether it used up its calls."""
        spent = self.counter()
        start = spent()
        return lambda: spent() - start >= self.per_page

    def afford(self, calls: int) -> None:
        """Refuse, before anything is sent, a read known to need more calls than are left."""
        if self.counter()() + calls > self.per_request:
            raise too_costly(self.per_request)


def too_costly(limit: int) -> ODataError:
    return ODataError.of("RequestTooCostly", limit=limit)


class Page:
    """Iterate it once (``prime`` first to surface errors before the response starts); then
    ``next_state`` tells whether a next page exists. ``close`` releases the source (Kintone
    cursors) when the client goes away early."""

    def __init__(self, items: Items, window: Window, count: int | None = None,
                 spent: Callable[[], bool] = lambda: False) -> None:
        """``spent()``: whether the page used up its budget of Kintone calls."""
        self.count = count
        self._spent = spent
        self.next_state: Position | None = None
        self._items = items
        self._window = window
        self._entities = self._cut()
        self._first: list[dict] = []

    def prime(self) -> Self:
        """Reads the first entity now, so that a failing Kintone call is still an error status."""
        self._first = list(islice(self._entities, 1))
        return self

    def __iter__(self) -> Iterator[dict]:
        yield from self._first
        self._first = []
        yield from self._entities

    def close(self) -> None:
        self._entities.close()

    def _cut(self) -> Generator[dict, None, None]:
        window = self._window
        limit, skip = window.limit, window.skip
        # Paged (not one whole stream): it may stop at any item, even within $skip.
        spent = self._spent if window.size is not None else None
        skipped = emitted = 0
        with closing(self._items) as items:
            if limit == 0:
                return
            for entity, position in items:
                if entity is not None and skipped < skip:
                    skipped += 1
                elif entity is not None:
                    yield entity
                    emitted += 1
                    if emitted == limit:
                        # Full, and $top not reached: there may be more.
                        if limit == window.size and (window.left is None or
                                                     emitted < window.left):
                            self._stop_at(position, emitted)
                        return
                if spent is not None and spent():
                    self._stop_at(position, emitted, skip - skipped)
                    return

    def _stop_at(self, position: Position, emitted: int, skip: int = 0) -> None:
        """``skip``: entities the next page still skips first."""
        # The source's position apart: its keys are its own ("c" is a comment's number there,
        # the total count in a skiptoken).
        self.next_state = {"at": position, "n": self._window.served + emitted}
        if skip:
            self.next_state["s"] = skip


def count_all(items: Items) -> int:
    """How many entities a reader yields, read to the end and closed (its cursor released)."""
    with closing(items):
        return sum(1 for entity, _ in items if entity is not None)
