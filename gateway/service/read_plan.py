"""The plan of one read of an app's records, as a value: what Kintone is asked (condition,
fields, order), what the gateway still checks itself (the residual), how the records are paged
and how many each Kintone call asks for. ``plan_read`` builds it from the query alone - no
Kintone call, no client - so that every choice below is tested without HTTP; ``records.Scan``
and ``records.RecordSource`` only run it.

Paging, chosen per query:

* ordered by ``Id`` (the default): seek on ``$id``; a position is the last id served, so pages
  stay right while records are added or deleted. ``$skip`` on an exact condition is pushed: the
  read starts after the ``$skip``-th matching record, found with one ``limit 1 offset n-1`` call
  (or, past Kintone's offset limit, by reading ids). Ascending reads known to need several
  Kintone pages go through disjoint ``$id`` ranges at once (``kintone.id_ranges``).
* any other ``$orderby``: Kintone ``offset`` pages while every offset stays within Kintone's
  10,000 limit (checked with one ``totalCount`` call, see ``ReadPlan.counted``); a larger set is
  served whole, in one streamed response through a cursor, never with an offset past the limit.

``$top``/``$skip`` are pushed to Kintone only when the condition is exact; with a residual they
count the rows that pass it, which only the gateway knows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from odata_query import ast

from ..kintone import query as kq
from ..kintone.id_ranges import RangePlan
from ..kintone.paging import MAX_PAGE
from ..model import EntitySet, Property, edm
from ..odata.errors import not_implemented
from ..odata.options import OrderItem, QueryOptions
from ..odata.translate import FilterPlan, plan_filter
from ..settings import KintoneSettings
from .entities import ID, filter_names, orderable, record_fields
from .pages import Position, Window

MAX_OFFSET = 10_000
# Kintone types its `order by` accepts (reference 13.10); others answer GAIA_IQ03.
SORTABLE = frozenset({
    edm.ID, "RECORD_NUMBER", "CREATED_TIME", "UPDATED_TIME", "SINGLE_LINE_TEXT", "LINK",
    "NUMBER", "CALC", "RADIO_BUTTON", "DROP_DOWN", "DATE", "TIME", "DATETIME", "STATUS",
})
OrderKeys = tuple[tuple[str, str], ...]
# How many records a read needs when a residual decides which ones count: not known, so no
# page is read ahead (it could be a call for nothing, on every page).
UNKNOWN = 0
EVERYTHING = Window(size=None)


class Paging(Enum):
    SEEK = "seek"  # `$id > last order by $id limit n`, one call after another
    RANGES = "ranges"  # `$id > s and $id <= e ...`: disjoint $id ranges, several calls at once
    OFFSET = "offset"  # `order by ... limit n offset k`, within Kintone's offset limit
    CURSOR = "cursor"  # a Kintone cursor: the whole set in one streamed response


@dataclass(frozen=True)
class RecordQuery:
    """What a read asks of an app's records, whatever the page: the pushed condition and the
    residual, the properties each entity has (``names``) and the order."""

    entity_set: EntitySet
    filter: FilterPlan
    order: OrderKeys
    names: tuple[str, ...]
    # Entities only written out (see ``entities.record_converter``); a residual needs them parsed.
    json_ready: bool = False
    parallel: int = 1  # Kintone calls one read may have in flight at once

    @classmethod
    def of(cls, entity_set: EntitySet, options: QueryOptions, settings: KintoneSettings, *,
           names: tuple[str, ...] = (), json_ready: bool = False, within: str = ""
           ) -> RecordQuery:
        """The query of ``options`` (400/501 for what cannot be read), within the records the
        condition ``within`` selects (e.g. those a reference table lists)."""
        planned = (plan_filter(options.filter, entity_set) if options.filter is not None
                   else FilterPlan("", None))
        if within:
            condition = f"{within} and {planned.condition}" if planned.condition else within
            planned = FilterPlan(condition, planned.residual)
        parallel = max(1, min(settings.parallel_reads, settings.max_concurrent_requests))
        return cls(entity_set, planned, kintone_order(entity_set, options.orderby), names,
                   json_ready, parallel)

    @property
    def exact(self) -> bool:
        return self.filter.residual is None

    @property
    def by_id(self) -> bool:
        return self.order[0][0] == ID

    @property
    def converted(self) -> tuple[str, ...]:
        """What each record is converted to: the selection plus what the residual reads."""
        extra = (filter_names(self.filter.residual, self.entity_set.entity_type)
                 - set(self.names))
        return (*self.names, *sorted(extra))

    def fields(self, order: OrderKeys | None = None) -> list[str] | None:
        """The Kintone fields to ask for, reading in ``order`` (None: the query's); None
        (every field) when the entities use them all: Kintone then answers the same, from a
        shorter query that is cheaper to serve (and a long list of fields can push a GET past
        the URL length limit)."""
        names = self.converted
        entity_type = self.entity_set.entity_type
        if len(set(names)) == len(entity_type.properties):
            return None
        codes = record_fields(entity_type, names)
        keys = self.order if order is None else order
        return list(dict.fromkeys([*codes, *(code for code, _ in keys)]))

    @property
    def text(self) -> str:
        """The Kintone query, without the paging's bounds, limit and offset."""
        return f"{kq.where(self.filter.condition)} {kq.order_by(self.order)}".strip()

    def plan(self, window: Window = EVERYTHING, state: Position | None = None) -> ReadPlan:
        """How to serve ``window`` from ``state`` on (None: the first page)."""
        if self.by_id:
            return self._seek(window, state)
        return self._by_order(window, state)

    def _seek(self, window: Window, state: Position | None) -> ReadPlan:
        skip = 0
        if state is None and window.skip and self.exact:
            skip, window = window.skip, replace(window, skip=0)
        batch = self._batch(window)
        wanted = self.wanted(window.limit)
        ascending = self.order[0][1] == "asc"
        # Several calls at once only for a read known to need several Kintone pages, so that
        # no call is made for records nobody reads; ascending: records are added at the top.
        if (self.parallel > 1 and ascending and wanted != UNKNOWN
                and (wanted is None or wanted > batch)):
            ranges = RangePlan(state["hi"], state["w"]) if state and "hi" in state else None
            return ReadPlan(self, Paging.RANGES, batch, window, wanted,
                            after=state["id"] if state else None, skip=skip, ranges=ranges)
        return ReadPlan(self, Paging.SEEK, batch, window, wanted,
                        after=state["id"] if state else None, skip=skip)

    def _by_order(self, window: Window, state: Position | None) -> ReadPlan:
        if state is not None:
            return ReadPlan(self, Paging.OFFSET, self._batch(window), window, UNKNOWN,
                            skip=state["o"])
        start = 0
        if self.exact:
            start, window = window.skip, replace(window, skip=0)
        return ReadPlan(self, Paging.OFFSET, self._batch(window), window, UNKNOWN, skip=start,
                        count_first=True)

    def _batch(self, window: Window) -> int:
        """Records per Kintone call: with a residual, as many as Kintone sends (how many pass
        is not known); else equal pages of at most 500, so that a gateway page of 700 costs
        two calls of 350, not 500 + 500."""
        limit = window.limit
        if not self.exact or limit is None or limit <= 0:
            return MAX_PAGE
        return math.ceil(limit / math.ceil(limit / MAX_PAGE))

    def wanted(self, entities: int | None, before: int = 0) -> int | None:
        """How many records serving ``entities`` (None: all) reads after ``before`` skipped
        ones: known when every record is an entity."""
        if entities is None:
            return None
        return before + entities if self.exact else UNKNOWN


@dataclass(frozen=True)
class ReadPlan:
    """One page's read of an app's records."""

    query: RecordQuery
    paging: Paging
    batch: int  # records per Kintone call
    window: Window  # what the gateway itself still skips and cuts
    # Records the read will consume (None: all; UNKNOWN: a residual decides): pages are read
    # ahead, and ranges read at once, only up to it.
    wanted: int | None
    after: int | None = None  # seek, ranges: the id the read resumes after
    # Seek, ranges: matching records passed over first (``$skip`` pushed to Kintone);
    # offset, cursor: the offset of the first record.
    skip: int = 0
    ranges: RangePlan | None = None  # ranges: the plan a previous page handed on
    # Offset, on a first page: a count of the matching records decides between offsets and a
    # cursor (``counted``).
    count_first: bool = False
    calls: int = 0  # cursor: the Kintone calls it is known to cost, refused first if too many

    @property
    def condition(self) -> str:
        return self.query.filter.condition

    @property
    def residual(self) -> ast._Node | None:
        return self.query.filter.residual

    @property
    def fields(self) -> list[str] | None:
        return self.query.fields()

    @property
    def order(self) -> OrderKeys:
        return self.query.order

    @property
    def skip_by_offset(self) -> bool:
        """Seek: whether the record to start after is found by one offset call (else by
        reading ids up to it)."""
        return self.skip - 1 <= MAX_OFFSET

    def counted(self, total: int) -> ReadPlan:
        """The plan once the pushed condition is known to match ``total`` records: offsets
        while the page ends within Kintone's limit, else the whole rest through a cursor."""
        if not self.count_first:
            return self
        left = self.window.left
        end = total if left is None else min(total, self.skip + left)
        if end <= MAX_OFFSET:
            return replace(self, count_first=False)
        return replace(self, paging=Paging.CURSOR, count_first=False, batch=MAX_PAGE,
                       window=replace(self.window, size=None),
                       wanted=self.query.wanted(left, self.skip),
                       calls=math.ceil(end / MAX_PAGE) + 1)

    @property
    def summary(self) -> str:
        """The paging in a few words, e.g. ``seek; 500 per call; after $id 42``."""
        parts = [self.paging.value, f"{self.batch} per call"]
        if self.after is not None:
            parts.append(f"after {ID} {self.after}")
        if self.skip:
            seeking = self.paging in (Paging.SEEK, Paging.RANGES)
            parts.append(f"after match {self.skip}" if seeking else f"from offset {self.skip}")
        return "; ".join(parts)


def plan_read(entity_set: EntitySet, options: QueryOptions, settings: KintoneSettings, *,
              names: tuple[str, ...] = (), window: Window = EVERYTHING,
              state: Position | None = None, json_ready: bool = False) -> ReadPlan:
    """The read serving ``window`` of the records ``options`` ask for, from ``state`` on (a
    page's position; None: the first page)."""
    query = RecordQuery.of(entity_set, options, settings, names=names, json_ready=json_ready)
    return query.plan(window, state)


def kintone_order(entity_set: EntitySet, orderby: Sequence[OrderItem]) -> OrderKeys:
    """``$orderby`` as Kintone sort keys, ending with ``$id`` so that every order is total."""
    keys: list[tuple[str, str]] = []
    for item in orderby:
        code = _sort_code(entity_set, item.path)
        keys.append((code, "desc" if item.descending else "asc"))
        if code == ID:
            return tuple(keys)
    return (*keys, (ID, "asc"))


def _sort_code(entity_set: EntitySet, path: str) -> str:
    if "/" in path:
        raise not_implemented(f"Ordering by '{path}' (a part of a property) is not supported.",
                              "$orderby")
    prop = orderable(entity_set, path)
    if not sortable(prop) or prop.kintone_code is None:
        raise not_implemented(f"Kintone cannot sort by '{path}' (field type "
                              f"{prop.kintone_type}).", "$orderby")
    return prop.kintone_code


def sortable(prop: Property) -> bool:
    """Whether Kintone's ``order by`` takes a record property."""
    return (prop.kintone_type in SORTABLE and prop.kintone_code is not None
            and not prop.collection and prop.edm_type.startswith("Edm."))
