"""Polling triggers over Kintone queries: "a record was added" and "a record was added or
changed", for one app.

Added: records with ``$id`` above the last one served, in ``$id`` order (ids only grow).

Updated: Kintone stamps a change with its minute only, so many records share one updated time
and a record served during a minute may be changed again within it, keeping its stamp. The
state therefore has two parts:

* a watermark for minutes that are *closed* (ended more than ``settle`` seconds ago, so no write
  can still be stamped with them): every record stamped before minute ``w`` was served, and
  those stamped ``w`` up to id ``c``;
* the (id, revision) of each record served from a minute still open: the minute is read again
  at each poll and a record is served again only with a new revision.

Records come oldest first (updated time, then id), so both parts only move forward. At most
``OPEN_KEPT`` open-minute records are remembered, which bounds the URL: beyond that the trigger
waits for the minute to close, then goes on by watermark. A poll answers at most ``batch``
records and says when more are waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..kintone import KintoneClient, Record, record_id
from ..kintone import query as kq
from ..kintone.models import ID, REVISION

MINUTE = 60
OPEN_KEPT = 100
Seen = Mapping[int, tuple[int, int]]  # id -> (revision, minute), minutes since the epoch


@dataclass(frozen=True)
class Outcome:
    """What a poll found: the records to answer (oldest first), the state to hand out (None:
    none yet, ask again without one) and the seconds until the next poll is worth it."""

    records: list[Record]
    state: dict[str, Any] | None
    wait: float


@dataclass(frozen=True)
class Poller:
    client: KintoneClient
    app: int
    batch: int
    idle: float  # seconds to wait when nothing is new
    settle: float
    clock: Callable[[], datetime]

    def added(self, state: Mapping[str, Any] | None) -> Outcome:
        if state is None:
            newest = self.client.get_records(self.app, f"order by {ID} desc limit 1", [ID])
            return Outcome([], {"id": record_id(newest.records[0]) if newest.records else 0},
                           self.idle)
        query = f"{ID} > {int(state['id'])} order by {ID} asc limit {self.batch + 1}"
        records = self.client.get_records(self.app, query).records
        served = records[:self.batch]
        if not served:
            return Outcome([], dict(state), self.idle)
        more = len(records) > self.batch
        return Outcome(served, {"id": record_id(served[-1])}, 0 if more else self.idle)

    def updated(self, code: str, state: Mapping[str, Any] | None) -> Outcome:
        now = self.clock().timestamp()
        closed = int((now - self.settle) // MINUTE) - 1  # the latest closed minute
        scan = _Scan(self.client, self.app, kq.field(code))
        if state is None:
            return self._start(scan, closed, now)
        window = Window.load(state)
        limit = self.batch + len(window.seen) + 1
        served: list[Record] = []
        for record in scan.read(window, limit):
            record_id, revision, minute = scan.stamp(record)
            if window.seen.get(record_id, (None,))[0] == revision:
                continue
            if len(served) == self.batch:
                return Outcome(served, window.state(), 0)
            if minute > closed and len(window.seen) >= OPEN_KEPT:
                return Outcome(served, window.state(), _until_closed(minute, self.settle, now))
            served.append(record)
            window = window.served(record_id, revision, minute, minute <= closed)
        return Outcome(served, window.caught_up(closed).state(), self.idle)

    def _start(self, scan: _Scan, closed: int, now: float) -> Outcome:
        """Everything stamped before now counts as served: the records of the open minutes
        are remembered, unless there are too many (then try again once they are closed)."""
        window = Window(closed + 1)
        records = scan.read(window, OPEN_KEPT + 1)
        if len(records) > OPEN_KEPT:
            minute = scan.stamp(records[-1])[2]
            return Outcome([], None, _until_closed(minute, self.settle, now))
        stamps = (scan.stamp(record) for record in records)
        seen = {record_id: (revision, minute) for record_id, revision, minute in stamps}
        return Outcome([], Window(closed + 1, None, seen).state(), self.idle)


@dataclass(frozen=True)
class Window:
    """Progress of an "updated" trigger (see the module's docstring)."""

    w: int
    c: int | None = None
    seen: Seen = field(default_factory=dict)

    @classmethod
    def load(cls, state: Mapping[str, Any]) -> Window:
        w = int(state["w"])
        seen = {int(i): (int(r), w + int(m)) for i, r, m in state.get("s", ())}
        return cls(w, None if state.get("c") is None else int(state["c"]), seen)

    def state(self) -> dict[str, Any]:
        # Minutes relative to w: small numbers keep the URL short.
        seen = [[i, r, m - self.w] for i, (r, m) in sorted(self.seen.items())]
        return {"w": self.w, "c": self.c, "s": seen}

    def served(self, record_id: int, revision: int, minute: int, closed: bool) -> Window:
        if not closed:
            return replace(self, seen={**self.seen, record_id: (revision, minute)})
        # Everything up to (minute, record_id) is served: the watermark covers it now.
        kept = {i: (r, m) for i, (r, m) in self.seen.items()
                if m > minute or (m == minute and i > record_id)}
        return Window(minute, record_id, kept)

    def caught_up(self, closed: int) -> Window:
        """The read found nothing more: every closed minute is served."""
        if closed + 1 <= self.w:
            return self
        return Window(closed + 1, None, {i: (r, m) for i, (r, m) in self.seen.items()
                                         if m > closed})


@dataclass(frozen=True)
class _Scan:
    client: KintoneClient
    app: int
    code: str  # the UPDATED_TIME field

    def read(self, window: Window, limit: int) -> list[Record]:
        """Up to ``limit`` records past the watermark, oldest first."""
        stamp = kq.quote(_iso(window.w))
        if window.c is None:
            condition = f"{self.code} >= {stamp}"
        else:
            condition = (f"({self.code} > {stamp}) or "
                         f"({self.code} = {stamp} and {ID} > {window.c})")
        order = kq.order_by([(self.code, "asc"), (ID, "asc")])
        return self.client.get_records(self.app, f"{condition} {order} limit {limit}").records

    def stamp(self, record: Record) -> tuple[int, int, int]:
        """(id, revision, minute of the update)."""
        updated = datetime.fromisoformat(record[self.code]["value"])
        return record_id(record), int(record[REVISION]["value"]), int(updated.timestamp()) // MINUTE


def _iso(minute: int) -> str:
    return datetime.fromtimestamp(minute * MINUTE, UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def _until_closed(minute: int, settle: float, now: float) -> float:
    return max(1.0, (minute + 1) * MINUTE + settle - now)
