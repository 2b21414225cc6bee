"""Reading records in ``$id`` order through several Kintone calls at once: disjoint ``$id``
ranges read concurrently, handed out in key order.

A read after the id ``after`` is planned from the lowest and highest matching ``$id`` and how
many records match (two cheap calls, sent together): ranges of ``width`` ids, each expected to
hold at most one Kintone page (see ``_width``), from just below the lowest id up to the
highest; everything above the highest id is one last, open range (the *tail*). Each range is
read by seeking within it (``(<condition>) and $id > s and $id <= e order by $id asc limit
N``), page after page while pages come back full short of the range's end. The width adapts
as pages come in: ranges over sparse ids widen, ranges over dense ids narrow.

At most ``ranges`` calls are in flight for one reader (each takes a slot of the transport's cap
like any other call, and is metered like any other), and no more than the reader still needs
(``wanted`` records); pages are handed out in range order, so at most ``ranges`` pages are held
ahead of the one being read.

What a reader sees while records are added and deleted, the same as a sequential ``$id`` seek
sees (``paging._Seek``):

* every record that exists from the start of the read to its end is served exactly once, in
  ascending ``$id`` order (ranges are disjoint and cover every id above ``after``);
* a record added or deleted meanwhile is served at most once, in its place. Kintone gives a new
  record an id above every existing one and never reuses an id, so no record appears at or
  below the highest id of the plan: those ranges miss nothing a later read would find. Only the
  tail can gain records, and it is read like a sequential read: it serves what was added before
  it reached the end.

The plan (highest id, width) travels in the position of every record, so that the next page of
a paged read starts all its calls at once, without planning again. Better still, a page that
will end full starts the first calls of the next page itself (``then``) as soon as Kintone has
answered all its records, and parks them (``Parked``, one per Kintone client, ``[kintone]
ParkedReads`` at most): they run while this page is converted and sent and the client asks for
the next, which takes them up instead of sending the same calls. With this page's own calls
still in flight, they keep to ``ranges`` calls at once. They are charged to this page's
request, sent only while its client is connected, and dropped unused after
``PARKED_SECONDS`` (a client that stops, a next request another process serves): at most
``ranges`` calls lost per paged read. A parked range is read a little earlier than the next
page asks for it, like any range read ahead within a page; a write to its app through the
client drops it (``KintoneClient``), so that a page read after the gateway wrote sees the write.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Generator, Hashable, Iterator
from dataclasses import dataclass
from functools import partial

from .models import Record, record_id
from .readahead import Ahead

FILL = 0.9  # of a Kintone page, what a range over sparse ids is expected to hold
PARKED_SECONDS = 30.0  # how long the first calls of a next page wait for it

# (after, up to and including; None: no upper bound, limit) -> the records, in $id order
Fetch = Callable[[int, int | None, int], list[Record]]


@dataclass(frozen=True)
class RangePlan:
    high: int  # the highest matching $id when planned: no record is added at or below it
    width: int  # ids expected to hold one Kintone page


@dataclass(frozen=True)
class _Range:
    after: int
    upto: int | None  # None: the tail


def plan(fetch_one: Callable[[str], tuple[int | None, int]], batch: int
         ) -> tuple[int, RangePlan] | None:
    """Where to start (just below the lowest matching id) and the plan; None when no record
    matches. ``fetch_one(direction)``: the id of the first matching record in that direction
    (None: none) and how many match."""
    highest = Ahead(lambda: fetch_one("desc"))
    try:
        lowest, count = fetch_one("asc")
    except BaseException:
        highest.settle()  # nothing outlives the reader
        raise
    high, _ = highest.result()
    if lowest is None or high is None or not count:
        return None
    span = high - lowest + 1
    return lowest - 1, RangePlan(high, _width(batch, count, span))


def _width(batch: int, records: int, ids: int) -> int:
    """Ids per range: where every id is a record, a page's worth (such a range never holds
    more than a page); over sparse ids, enough for ``FILL`` of a page, since how many records
    a range holds varies and one that holds more than a page costs a call more, made after
    its first page came back instead of beside it."""
    if not records:
        return ids * 2
    if ids <= records:
        return batch
    return max(batch, math.floor(batch * FILL * ids / records))


def _range_from(start: int, plan: RangePlan) -> _Range:
    upto = start + plan.width
    return _Range(start, upto if upto < plan.high else None)


class Parked:
    """Range reads started for a page nobody asked for yet, by app and key; each taken at most
    once, dropped after ``seconds``, when ``most`` newer ones are parked, or when their app is
    written to (a page read after a write sees it)."""

    def __init__(self, most: int, seconds: float = PARKED_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.most = most  # 0: none are parked (nor started)
        self._seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._reads: OrderedDict[tuple[int, Hashable], tuple[float, Ahead[list[Record]]]] = \
            OrderedDict()

    def park(self, app: int, key: Hashable, read: Ahead[list[Record]]) -> None:
        with self._lock:
            now = self._clock()
            self._reads[app, key] = (now + self._seconds, read)
            self._reads.move_to_end((app, key))
            # The oldest go first, also those not yet expired: a dropped call ends on its own,
            # and its records are not held for nobody.
            while self._reads and (len(self._reads) > self.most
                                   or next(iter(self._reads.values()))[0] < now):
                self._reads.popitem(last=False)

    def take(self, app: int, key: Hashable) -> Ahead[list[Record]] | None:
        with self._lock:
            found = self._reads.pop((app, key), None)
        if found is None or found[0] < self._clock():
            return None
        return found[1]

    def forget(self, apps: Collection[int]) -> None:
        """Drop the reads of ``apps`` (they were written to)."""
        with self._lock:
            for key in [key for key in self._reads if key[0] in apps]:
                del self._reads[key]

    def __len__(self) -> int:
        return len(self._reads)


class _Taken:
    """A parked range read taken up: its records, or, if it failed (its request's client had
    gone, its budget was spent ...), those of the same call made now."""

    def __init__(self, read: Ahead[list[Record]], again: Callable[[], list[Record]]) -> None:
        self._read = read
        self._again = again

    def result(self) -> list[Record]:
        try:
            return self._read.result()
        except Exception:  # made again: its error, if any, is the one the reader sees
            return self._again()

    def settle(self) -> None:
        self._read.settle()


def _holds_more(part: _Range, page: list[Record], batch: int) -> bool:
    """Whether ``part`` may hold records after ``page``: a full page that did not reach its
    upper bound (a page of dense ids ends on it)."""
    return len(page) == batch and (part.upto is None or record_id(page[-1]) < part.upto)


class RangedRead:
    """The records above ``after`` in ascending ``$id`` order; iterate once, close when
    stopping early (that waits for the calls in flight). ``plan``: the current plan, for the
    position of the record last handed out."""

    def __init__(self, fetch: Fetch, after: int, plan: RangePlan, *, ranges: int, batch: int,
                 wanted: int | None, parked: Parked | None = None, app: int = 0,
                 key: Hashable = None, then: int = 0) -> None:
        """``parked``: where ranges started for a next page wait, ``app`` and ``key`` what
        ``fetch`` reads (the condition, fields ...). ``then``: records the next page will want,
        when this reader is closed after handing out ``wanted`` (0: none)."""
        self.plan = plan
        self._fetch = fetch
        self._next: int | None = after  # where the next range starts (None: tail planned)
        self._ranges = ranges
        self._batch = batch
        self._wanted = wanted
        self._parked = parked if parked is not None and parked.most else None
        self._app = app
        self._key = key
        self._then = then if self._parked is not None and wanted is not None else 0
        self._records = self._read()

    def __iter__(self) -> Iterator[Record]:
        return self._records

    def close(self) -> None:
        self._records.close()

    def _read(self) -> Generator[Record, None, None]:
        # A range's next page is started at once only while the reader may need it; else
        # it is read when (if ever) the reader comes to it.
        pending: deque[tuple[_Range, Ahead[list[Record]] | _Taken | None]] = deque()
        handed = 0
        park_at = self._wanted if self._then else None  # the next page's calls start there
        try:
            self._more(pending, handed)
            while pending:
                part, fetching = pending.popleft()
                page = self._fetch_range(part) if fetching is None else fetching.result()
                before, handed = handed, handed + len(page)
                if _holds_more(part, page, self._batch):  # read on, first in line
                    rest = _Range(record_id(page[-1]), part.upto)
                    pending.appendleft((rest, self._start(rest) if self._needs(handed) else None))
                self._learn(part, page)
                self._more(pending, handed)
                if park_at is not None and before < park_at <= handed:
                    self._park_next(record_id(page[park_at - before - 1]),
                                    sum(fetching is not None for _, fetching in pending))
                yield from page
        finally:
            for _, fetching in pending:
                if fetching is not None:
                    fetching.settle()

    def _park_next(self, after: int, in_flight: int) -> None:
        """Start the ranges the next page starts with (as its ``_more`` would), parked for it,
        as soon as this page has all its records: their calls then overlap this page's
        conversion and sending, and the client's next request. No more than this reader's
        ``ranges`` calls in flight, ``in_flight`` of them still its own."""
        assert self._parked is not None
        start: int | None = after
        for _ in range(min(self._ranges - in_flight, -(-self._then // self._batch))):
            if start is None:
                return
            part = _range_from(start, self.plan)
            self._parked.park(self._app, (self._key, part),
                              Ahead(partial(self._fetch_range, part)))
            start = part.upto

    def _more(self, pending: deque, handed: int) -> None:
        """Start ranges while fewer than ``ranges`` calls are in flight and the reader may
        still need what they bring."""
        while (self._next is not None and len(pending) < self._ranges
               and self._needs(handed + len(pending) * self._batch)):
            part = _range_from(self._next, self.plan)
            pending.append((part, self._start(part)))
            self._next = part.upto

    def _needs(self, records: int) -> bool:
        """Whether the reader may want more than ``records`` records."""
        return self._wanted is None or records < self._wanted

    def _start(self, part: _Range) -> Ahead[list[Record]] | _Taken:
        parked = (None if self._parked is None
                  else self._parked.take(self._app, (self._key, part)))
        fetch = partial(self._fetch_range, part)
        return Ahead(fetch) if parked is None else _Taken(parked, fetch)

    def _fetch_range(self, part: _Range) -> list[Record]:
        return self._fetch(part.after, part.upto, self._batch)

    def _learn(self, part: _Range, page: list[Record]) -> None:
        """Size the next ranges by the density of the ids just read: ids are as dense near
        one another as they were when deleted, not as dense as on average (a deleted block
        would widen every range after it)."""
        if len(page) == self._batch:
            covered = record_id(page[-1]) - part.after
        elif part.upto is not None:
            covered = part.upto - part.after
        else:
            return
        self.plan = RangePlan(self.plan.high, _width(self._batch, len(page), covered))
