"""Reading an app's records (record sets) and their subtable rows (subtable sets).

Paging, chosen per query:

* ordered by ``Id`` (the default): seek on ``$id``; a position is the last id served, so pages
  stay right while records are added or deleted. ``$skip`` on an exact condition becomes one
  ``limit 1 offset n-1`` call that finds where to start.
* any other ``$orderby``: Kintone ``offset`` pages while every offset stays within Kintone's
  10,000 limit (checked with one ``totalCount`` call); a larger set is served whole, in one
  streamed response through a cursor, never with an offset past the limit.

``$top``/``$skip`` are pushed to Kintone only when the condition is exact; with a residual they
count the rows that pass it, which only the gateway knows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from functools import cached_property

from ..kintone import KintoneClient, KintoneNotFound, iter_records
from ..kintone import query as kq
from ..kintone.id_ranges import RangePlan
from ..kintone.models import Record
from ..kintone.paging import MAX_PAGE, ranged_records
from ..model import ComplexType, EntitySet, Property, edm
from ..odata.errors import not_implemented
from ..odata.evaluate import matches
from ..odata.options import OrderItem
from ..odata.translate import FilterPlan
from .entities import (
    ID,
    filter_names,
    orderable,
    project,
    record_converter,
    record_fields,
    row_entities,
)
from .pages import CallBudget, Item, Position, Window, count_all

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


@dataclass(frozen=True)
class Scan:
    """One filtered read of an app's records, yielding entities with the properties ``names``."""

    client: KintoneClient
    entity_set: EntitySet
    plan: FilterPlan
    names: tuple[str, ...]
    # Entities only written out (see ``record_converter``); a residual needs them parsed.
    json_ready: bool = False

    @property
    def app(self) -> int:
        assert self.entity_set.app_id is not None
        return self.entity_set.app_id

    @property
    def exact(self) -> bool:
        return self.plan.residual is None

    @property
    def converted(self) -> tuple[str, ...]:
        """What each record is converted to: the selection plus what the residual reads."""
        extra = filter_names(self.plan.residual, self.entity_set.entity_type) - set(self.names)
        return (*self.names, *sorted(extra))

    def fields(self, order: OrderKeys = ()) -> list[str] | None:
        """The Kintone fields to ask for; None (every field) when the entities use them all:
        Kintone then answers the same, from a shorter query that is cheaper to serve (and a
        long list of fields can push a GET past the URL length limit)."""
        names = self.converted
        entity_type = self.entity_set.entity_type
        if len(set(names)) == len(entity_type.properties):
            return None
        codes = record_fields(entity_type, names)
        return list(dict.fromkeys([*codes, *(code for code, _ in order)]))

    def entity(self, record: Record) -> dict | None:
        """The record as an entity, or None when the residual rejects it."""
        entity = self._convert(record)
        if self.plan.residual is None:
            return entity  # nothing but the selection was converted
        if not matches(self.plan.residual, entity):
            return None
        return project(entity, self.names)

    @cached_property
    def _convert(self) -> Callable[[Record], dict]:
        return record_converter(self.entity_set.entity_type, self.converted,
                                json_ready=self.json_ready and self.exact)

    def records(self, order: OrderKeys = (), *, after: int | None = None,
                batch: int = MAX_PAGE, wanted: int | None = UNKNOWN) -> Iterator[Record]:
        """Every record matching the condition, in ``order`` (seek or cursor, see paging).

        ``wanted``: how many of them the caller will read (None: all), so that the next Kintone
        page is read ahead when it will be needed (see paging).
        """
        return iter_records(self.client, self.app, condition=self.plan.condition,
                            order_by=list(order) or None, fields=self.fields(order),
                            page_size=batch, start_after_id=after,
                            read_ahead=wanted != UNKNOWN, wanted=wanted)

    @property
    def parallel(self) -> int:
        """Kintone calls one read may have in flight at once."""
        settings = self.client.settings
        return max(1, min(settings.parallel_reads, settings.max_concurrent_requests))

    def ranged(self, *, after: int | None, plan: RangePlan | None, batch: int,
               wanted: int | None) -> Iterator[tuple[Record, RangePlan]]:
        """Every record matching the condition above ``after``, in ascending ``$id`` order,
        read through disjoint ``$id`` ranges at once (see ``kintone.id_ranges``)."""
        return ranged_records(self.client, self.app, condition=self.plan.condition,
                              fields=self.fields(((ID, "asc"),)), page_size=batch, after=after,
                              plan=plan, parallel=self.parallel, wanted=wanted)

    def total(self) -> int:
        """How many records the pushed condition matches (one cheap call)."""
        query = f"{kq.where(self.plan.condition)} limit 1".strip()
        page = self.client.get_records(self.app, query, [ID], total_count=True)
        return page.total_count or 0

    def offset_page(self, order: OrderKeys, offset: int, limit: int) -> list[Record]:
        query = f"{kq.where(self.plan.condition)} {kq.order_by(order)} limit {limit} " \
                f"offset {offset}"
        return self.client.get_records(self.app, query.strip(), self.fields(order)).records

    def count(self) -> int:
        if self.exact:
            return self.total()
        counting = replace(self, names=())
        with closing(counting.records()) as records:
            return sum(1 for record in records if counting.entity(record) is not None)


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
    if not sortable(prop):
        raise not_implemented(f"Kintone cannot sort by '{path}' (field type "
                              f"{prop.kintone_type}).", "$orderby")
    return prop.kintone_code


def sortable(prop: Property) -> bool:
    """Whether Kintone's ``order by`` takes a record property."""
    return (prop.kintone_type in SORTABLE and prop.kintone_code is not None
            and not prop.collection and prop.edm_type.startswith("Edm."))


@dataclass(frozen=True)
class RecordSource:
    """The records of one app as an entity set."""

    scan: Scan
    order: OrderKeys
    budget: CallBudget

    def read(self, state: Position | None, window: Window) -> tuple[Iterator[Item], Window]:
        if self.order[0][0] == ID:
            return self._seek(state, window)
        return self._by_order(state, window)

    def count(self) -> int:
        return self.scan.count()

    def entity(self, key: Mapping[str, int]) -> dict | None:
        try:
            record = self.scan.client.get_record(self.scan.app, key["Id"])
        except KintoneNotFound:
            return None
        return self.scan.entity(record)

    # -- ordered by $id: seek ---------------------------------------------------------------

    def _seek(self, state: Position | None, window: Window) -> tuple[Iterator[Item], Window]:
        direction = self.order[0][1]
        after = state["id"] if state else None
        if state is None and window.skip and self.scan.exact:
            after = self._id_before(direction, window.skip)
            window = replace(window, skip=0)
            if after is None:
                return _nothing(), window
        batch = _batch(window.limit) if self.scan.exact else MAX_PAGE
        wanted = self._wanted(window.limit)
        if self._parallel(direction, batch, wanted):
            plan = RangePlan(state["hi"], state["w"]) if state and "hi" in state else None
            return self._ranged(after, plan, batch, wanted), window
        records = self.scan.records(((ID, direction),), after=after, batch=batch,
                                    wanted=wanted)
        return _with_positions(self.scan, records, lambda record, _: {"id": _id(record)}), window

    def _parallel(self, direction: str, batch: int, wanted: int | None) -> bool:
        """Whether to read through several calls at once (see ``kintone.id_ranges``): ascending
        (records are added at the top), and only a read known to need several Kintone pages,
        so that no call is made for records nobody reads."""
        return (self.scan.parallel > 1 and direction == "asc" and wanted != UNKNOWN
                and (wanted is None or wanted > batch))

    def _ranged(self, after: int | None, plan: RangePlan | None, batch: int,
                wanted: int | None) -> Iterator[Item]:
        records = self.scan.ranged(after=after, plan=plan, batch=batch, wanted=wanted)
        with closing(records):
            for record, current in records:
                position = {"id": _id(record), "hi": current.high, "w": current.width}
                yield self.scan.entity(record), position

    def _wanted(self, entities: int | None, before: int = 0) -> int | None:
        """How many records serving ``entities`` (None: all) reads after ``before`` skipped
        ones: known when every record is an entity."""
        if entities is None:
            return None
        return before + entities if self.scan.exact else UNKNOWN

    def _id_before(self, direction: str, skip: int) -> int | None:
        """The id of the ``skip``-th matching record (None: there are fewer)."""
        order = ((ID, direction),)
        ids_only = replace(self.scan, names=())
        if skip - 1 <= MAX_OFFSET:
            found = ids_only.offset_page(order, skip - 1, 1)
            return _id(found[0]) if found else None
        with closing(ids_only.records(order)) as records:
            for position, record in enumerate(records, 1):
                if position == skip:
                    return _id(record)
        return None

    # -- any other order: offsets within the limit, else one cursor stream -----------------

    def _by_order(self, state: Position | None, window: Window) -> tuple[Iterator[Item], Window]:
        if state is not None:
            return self._offsets(state["o"], window), window
        start = 0
        if self.scan.exact:
            start, window = window.skip, replace(window, skip=0)
        total = self.scan.total()
        end = total if window.left is None else min(total, start + window.left)
        if end <= MAX_OFFSET:
            return self._offsets(start, window), window
        # One stream through a cursor: known to cost its pages and the cursor (its release is
        # never refused).
        self.budget.afford(math.ceil(end / MAX_PAGE) + 1)
        return self._cursor(start, self._wanted(window.left, start)), replace(window, size=None)

    def _offsets(self, start: int, window: Window) -> Iterator[Item]:
        batch = _batch(window.limit) if self.scan.exact else MAX_PAGE
        position = start
        while position <= MAX_OFFSET:
            records = self.scan.offset_page(self.order, position, batch)
            for record in records:
                position += 1
                yield self.scan.entity(record), {"o": position}
            if len(records) < batch:
                return
        # Only when the set grew past the limit while it was being paged.
        yield from self._cursor(position, UNKNOWN)

    def _cursor(self, start: int, wanted: int | None) -> Iterator[Item]:
        records = self.scan.records(self.order, wanted=wanted)
        return _with_positions(self.scan, records, lambda _, position: {"o": position},
                               skip=start)


def _with_positions(scan: Scan, records: Iterator[Record],
                    position_of: Callable[[Record, int], Position], *,
                    skip: int = 0) -> Iterator[Item]:
    """Entities of the records (None for those the residual rejects), with their positions;
    the first ``skip`` records are read but not served."""
    with closing(records):
        for number, record in enumerate(records, 1):
            if number > skip:
                yield scan.entity(record), position_of(record, number)


def _nothing() -> Iterator[Item]:
    yield from ()


def _batch(limit: int | None) -> int:
    """Kintone page size for ``limit`` entities: equal pages of at most 500, so that a gateway
    page of 700 costs two calls of 350, not 500 + 500."""
    if limit is None or limit <= 0:
        return MAX_PAGE
    return math.ceil(limit / math.ceil(limit / MAX_PAGE))


def _id(record: Record) -> int:
    return int(record[ID]["value"])


@dataclass(frozen=True)
class SubtableSource:
    """The rows of one subtable of an app, flat: ``{RecordId, RowId, inner fields}``.

    Rows come record by record in ``$id`` order and in table order within a record; a position
    is ``(record id, rows of it already read)``.
    """

    client: KintoneClient
    entity_set: EntitySet
    row_type: ComplexType
    plan: FilterPlan
    names: tuple[str, ...]

    def read(self, state: Position | None, window: Window) -> tuple[Iterator[Item], Window]:
        return self._rows(state), window

    def count(self) -> int:
        return count_all(self._rows(None))

    def entity(self, key: Mapping[str, int]) -> dict | None:
        try:
            record = self.client.get_record(self._app, key["RecordId"])
        except KintoneNotFound:
            return None
        rows = row_entities(self.entity_set, record, self.row_type)
        found = [project(row, self.names) for row in rows if row["RowId"] == key["RowId"]]
        return found[0] if found else None

    @property
    def _app(self) -> int:
        assert self.entity_set.app_id is not None
        return self.entity_set.app_id

    def _rows(self, state: Position | None) -> Iterator[Item]:
        code = self.entity_set.subtable_code or ""
        after = state["id"] - 1 if state else None
        records = iter_records(self.client, self._app, condition=self.plan.condition,
                               fields=[ID, code], start_after_id=after)
        with closing(records):
            for record in records:
                record_id = _id(record)
                done = state["row"] if state and state["id"] == record_id else 0
                rows = row_entities(self.entity_set, record, self.row_type)
                for index, row in enumerate(rows[done:], done + 1):
                    if self.plan.residual is None or matches(self.plan.residual, row):
                        yield project(row, self.names), {"id": record_id, "row": index}
                yield None, {"id": record_id + 1, "row": 0}  # read: a page may stop here


def check_natural_order(entity_set: EntitySet, orderby: Sequence[OrderItem],
                        natural: Sequence[str]) -> None:
    """Sets read in one fixed order (subtable rows, comments) accept only a prefix of it."""
    wanted = [OrderItem(name) for name in natural]
    if list(orderby) != wanted[:len(orderby)]:
        raise not_implemented(f"{entity_set.name} can only be ordered by "
                              f"{', '.join(natural)} (ascending).", "$orderby")
