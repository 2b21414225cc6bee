"""One page of a collection: a lazy stream of entities, cut at the page size, with the state the
next page resumes from.

Sources yield ``(entity, position)``: the entity (already filtered) and the state a next page
would resume after it. The page serves at most ``size`` entities and stops at ``$top``; when it
stops because it is full, ``next_state`` is the last entity's position. Whether more entities
follow is not known without reading them, and reading them costs a Kintone call, so a full page
always gets a next link, and the last page of a set whose size is a multiple of the page size
is empty (allowed by OData, and what other OData services do).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from itertools import islice
from typing import Any

Position = dict[str, Any]
Item = tuple[dict, Position]


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


class Page:
    """Iterate it once (``prime`` first to surface errors before the response starts); then
    ``next_state`` tells whether a next page exists. ``close`` releases the source (Kintone
    cursors) when the client goes away early."""

    def __init__(self, items: Iterator[Item], window: Window, count: int | None = None) -> None:
        self.count = count
        self.next_state: Position | None = None
        self._items = items
        self._window = window
        self._entities = self._cut()
        self._first: list[dict] = []

    def prime(self) -> Page:
        """Reads the first entity now, so that a failing Kintone call is still an error status."""
        self._first = list(islice(self._entities, 1))
        return self

    def __iter__(self) -> Iterator[dict]:
        yield from self._first
        self._first = []
        yield from self._entities

    def close(self) -> None:
        self._entities.close()

    def _cut(self) -> Iterator[dict]:
        window = self._window
        limit = window.limit
        with closing(self._items) as items:
            if limit == 0:
                return
            for emitted, (entity, position) in enumerate(islice(items, window.skip, None), 1):
                yield entity
                if emitted == limit:
                    # Full, and $top not reached: there may be more.
                    if limit == window.size and (window.left is None or emitted < window.left):
                        self.next_state = {**position, "n": window.served + emitted}
                    return


def count_all(items: Iterator[Any]) -> int:
    """How many items a reader yields, read to the end and closed (its cursor released)."""
    with closing(items):
        return sum(1 for _ in items)
