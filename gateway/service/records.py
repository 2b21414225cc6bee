"""Reading an app's records (record sets) and their subtable rows (subtable sets).

A record set's read is planned in ``read_plan`` (paging, batch size, fields); ``Scan`` and
``RecordSource`` run the plan against Kintone.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from ..kintone import KintoneClient, KintoneNotFound, iter_records
from ..kintone import query as kq
from ..kintone.id_ranges import RangePlan
from ..kintone.layout import RecordLayout, Row, record_layout
from ..kintone.models import Record, record_id
from ..kintone.paging import MAX_PAGE, ranged_records
from ..model import ComplexType, EntitySet
from ..odata.errors import not_implemented
from ..odata.evaluate import matches
from ..odata.options import OrderItem
from ..odata.translate import FilterPlan
from . import trace
from .entities import ID, project, record_converter, record_fields, row_entities
from .pages import CallBudget, Items, Position, Window, count_all
from .read_plan import MAX_OFFSET, UNKNOWN, OrderKeys, Paging, ReadPlan, RecordQuery


@dataclass(frozen=True)
class Scan:
    """One filtered read of an app's records, yielding entities with the query's properties."""

    client: KintoneClient
    query: RecordQuery

    @property
    def app(self) -> int:
        assert self.query.entity_set.app_id is not None
        return self.query.entity_set.app_id

    @property
    def condition(self) -> str:
        return self.query.filter.condition

    @cached_property
    def entity(self) -> Callable[[Row], dict | None]:
        """The record (read by this scan) as an entity, or None when the residual rejects it."""
        convert = self._convert
        if self.query.filter.residual is None:
            return convert  # nothing but the selection was converted
        return lambda record: self._accepted(convert(record))

    def record_entity(self, record: Record) -> dict | None:
        """``entity`` for a record read as Kintone's dict (one record by its id)."""
        return self._accepted(self._converter(None)(record))

    def _accepted(self, entity: dict) -> dict | None:
        residual = self.query.filter.residual
        if residual is None:
            return entity  # nothing but the selection was converted
        if not matches(residual, entity):
            return None
        return project(entity, self.query.names)

    @cached_property
    def _convert(self) -> Callable[[Row], dict]:
        return self._converter(self.layout)

    def _converter(self, layout: RecordLayout | None) -> Callable[[Any], dict]:
        query = self.query
        return record_converter(query.entity_set.entity_type, query.converted,
                                json_ready=query.json_ready and query.exact, layout=layout)

    @cached_property
    def layout(self) -> RecordLayout:
        """How this scan's records are decoded: the fields its entities are converted from."""
        entity_type = self.query.entity_set.entity_type
        return record_layout(tuple(record_fields(entity_type, self.query.converted)))

    def records(self, order: OrderKeys | None = None, *, after: int | None = None,
                batch: int = MAX_PAGE, wanted: int | None = UNKNOWN
                ) -> Generator[Row, None, None]:
        """Every record matching the condition, in ``order`` (None: the query's; seek or
        cursor, see paging).

        ``wanted``: how many of them the caller will read (None: all), so that the next Kintone
        page is read ahead when it will be needed (see paging).
        """
        order = self.query.order if order is None else order
        return iter_records(self.client, self.app, condition=self.condition,
                            order_by=list(order), fields=self.query.fields(order),
                            page_size=batch, start_after_id=after,
                            read_ahead=wanted != UNKNOWN, wanted=wanted,
                            layout=self.layout)  # type: ignore[return-value]

    def ranged(self, *, after: int | None, plan: RangePlan | None, batch: int,
               wanted: int | None, then: int = 0
               ) -> Generator[tuple[Row, RangePlan], None, None]:
        """Every record matching the condition above ``after``, in ascending ``$id`` order,
        read through disjoint ``$id`` ranges at once (see ``kintone.id_ranges``); ``then``:
        what the next page will want, its first calls started as this one ends."""
        return ranged_records(self.client, self.app, condition=self.condition,
                              fields=self.query.fields(), page_size=batch, after=after,
                              plan=plan, parallel=self.query.parallel, wanted=wanted,
                              then=then, layout=self.layout)  # type: ignore[return-value]

    def total(self) -> int:
        """How many records the pushed condition matches (one cheap call)."""
        query = f"{kq.where(self.condition)} limit 1".strip()
        page = self.client.get_records(self.app, query, [ID], total_count=True)
        return page.total_count or 0

    def offset_page(self, offset: int, limit: int) -> list[Row]:
        query = f"{kq.where(self.condition)} {kq.order_by(self.query.order)} limit {limit} " \
                f"offset {offset}"
        return self.client.get_records(self.app, query.strip(), self.query.fields(),
                                       layout=self.layout).records  # type: ignore[return-value]

    def count(self) -> int:
        if self.query.exact:
            return self.total()
        counting = Scan(self.client, replace(self.query, names=()))
        with closing(counting.records(((ID, "asc"),))) as records:
            return sum(1 for record in records if counting.entity(record) is not None)


@dataclass(frozen=True)
class RecordSource:
    """The records of one app as an entity set: each page's read planned (``read_plan``), then
    run."""

    scan: Scan
    budget: CallBudget

    def plan(self, window: Window, state: Position | None = None) -> ReadPlan:
        return self.scan.query.plan(window, state)

    def read(self, state: Position | None, window: Window) -> tuple[Items, Window]:
        with trace.span("plan"):
            plan = self.plan(window, state)
        if plan.count_first:
            plan = plan.counted(self.scan.total())
        trace.planned(plan.query.text, plan.residual, plan.summary)
        return self.run(plan), plan.window

    def run(self, plan: ReadPlan) -> Items:
        if plan.paging in (Paging.SEEK, Paging.RANGES):
            return self._seek(plan)
        if plan.paging is Paging.CURSOR:
            # Known to cost its pages and the cursor (its release is never refused).
            self.budget.afford(plan.calls)
            return self._cursor(plan.skip, plan.wanted)
        return self._offsets(plan.skip, plan.batch)

    def count(self) -> int:
        query = self.scan.query
        trace.planned(query.text, query.filter.residual,
                      "count: one call" if query.exact else "count: every matching record read")
        return self.scan.count()

    def entity(self, key: Mapping[str, int]) -> dict | None:
        trace.planned(f"{ID} = {key['Id']}", None, "one record")
        try:
            record = self.scan.client.get_record(self.scan.app, key["Id"])
        except KintoneNotFound:
            return None
        return self.scan.record_entity(record)

    # -- ordered by $id: seek ---------------------------------------------------------------

    def _seek(self, plan: ReadPlan) -> Items:
        after = plan.after
        if plan.skip:
            after = self._id_before(plan)
            if after is None:
                return _nothing()
        if plan.paging is Paging.RANGES:
            return self._ranged(after, plan)
        return _by_id(self.scan, self.scan.records(after=after, batch=plan.batch,
                                                   wanted=plan.wanted))

    def _ranged(self, after: int | None, plan: ReadPlan) -> Items:
        records = self.scan.ranged(after=after, plan=plan.ranges, batch=plan.batch,
                                   wanted=plan.wanted, then=_next_page(plan))
        entity = self.scan.entity
        with closing(records):
            for record, current in records:
                position = {"id": record_id(record), "hi": current.high, "w": current.width}
                yield entity(record), position

    def _id_before(self, plan: ReadPlan) -> int | None:
        """The id of the ``plan.skip``-th matching record (None: there are fewer)."""
        ids_only = Scan(self.scan.client, replace(self.scan.query, names=()))
        if plan.skip_by_offset:
            found = ids_only.offset_page(plan.skip - 1, 1)
            return record_id(found[0]) if found else None
        with closing(ids_only.records()) as records:
            for position, record in enumerate(records, 1):
                if position == plan.skip:
                    return record_id(record)
        return None

    # -- any other order: offsets within the limit, else one cursor stream -----------------

    def _offsets(self, start: int, batch: int) -> Items:
        position = start
        while position <= MAX_OFFSET:
            records = self.scan.offset_page(position, batch)
            for record in records:
                position += 1
                yield self.scan.entity(record), {"o": position}
            if len(records) < batch:
                return
        # Only when the set grew past the limit while it was being paged.
        yield from self._cursor(position, UNKNOWN)

    def _cursor(self, start: int, wanted: int | None) -> Items:
        records = self.scan.records(wanted=wanted)
        return _numbered(self.scan, records, skip=start)


def _by_id(scan: Scan, records: Generator[Row, None, None]) -> Items:
    """Entities of the records, with their ``$id`` as their positions."""
    entity = scan.entity
    with closing(records):
        for record in records:
            yield entity(record), {"id": record_id(record)}


def _numbered(scan: Scan, records: Generator[Row, None, None], *, skip: int = 0) -> Items:
    """Entities of the records, with their numbers (from 1) as their positions; the first
    ``skip`` records are read but not served."""
    entity = scan.entity
    with closing(records):
        for number, record in enumerate(records, 1):
            if number > skip:
                yield entity(record), {"o": number}


def _next_page(plan: ReadPlan) -> int:
    """Records the page after a full page of ``plan`` reads, when it reads them alike (the same
    ranges, the same records per call); 0: no such page, or one read otherwise."""
    window = plan.window
    if window.size is None or window.skip or plan.wanted != window.size:
        return 0
    if window.left is not None and window.left - window.size < window.size:
        return 0
    return window.size


def _nothing() -> Items:
    yield from ()


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

    def read(self, state: Position | None, window: Window) -> tuple[Items, Window]:
        self._note()
        return self._rows(state), window

    def count(self) -> int:
        self._note()
        return count_all(self._rows(None))

    def _note(self) -> None:
        query = f"{kq.where(self.plan.condition)} {kq.order_by([(ID, 'asc')])}".strip()
        trace.planned(query, self.plan.residual, f"seek; {MAX_PAGE} per call")

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

    def _rows(self, state: Position | None) -> Items:
        code = self.entity_set.subtable_code or ""
        after = state["id"] - 1 if state else None
        records = iter_records(self.client, self._app, condition=self.plan.condition,
                               fields=[ID, code], start_after_id=after)
        with closing(records):
            for record in records:
                owner = record_id(record)
                done = state["row"] if state and state["id"] == owner else 0
                rows = row_entities(self.entity_set, record, self.row_type)
                for index, row in enumerate(rows[done:], done + 1):
                    if self.plan.residual is None or matches(self.plan.residual, row):
                        yield project(row, self.names), {"id": owner, "row": index}
                yield None, {"id": owner + 1, "row": 0}  # read: a page may stop here


def check_natural_order(entity_set: EntitySet, orderby: Sequence[OrderItem],
                        natural: Sequence[str]) -> None:
    """Sets read in one fixed order (subtable rows, comments) accept only a prefix of it."""
    wanted = [OrderItem(name) for name in natural]
    if list(orderby) != wanted[:len(orderby)]:
        raise not_implemented(f"{entity_set.name} can only be ordered by "
                              f"{', '.join(natural)} (ascending).", "$orderby")
