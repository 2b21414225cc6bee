"""``$expand``: the related entities of each record of a page, added to the record's entity under
the navigation property's name.

Kintone calls per page (a page with ``$expand`` holds at most ``[gateway] ExpandPageSize``
records, 100 by default):

* subtable rows: none; the rows come with the record (its subtable field is read with it);
* comments: one call per record, for its first 10 comments (Kintone's most per call) passing
  the nested ``$filter``; a record with more gets ``Comments@odata.nextLink`` to the rest, read
  from ``Set(Id)/Comments``;
* a lookup's record: one call per 100 distinct looked-up values of the page (``key in (...)``);
* a reference table's records: one call per record (two with a nested ``$orderby``), for its
  first 100 related records; more are behind ``<name>@odata.nextLink`` (``Set(Id)/<name>``).
  A nested ``$filter`` must be one Kintone answers exactly, so that no call reads records only
  to drop them.

Expanding comments of 100 records thus costs 100 calls, whatever the number of comments; the
calls of ``EXPAND_AHEAD`` records are in flight at once, so that a page takes about a quarter of
the time one call after the other would.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from itertools import islice
from typing import Any

from ..kintone import KintoneClient, KintoneNotFound
from ..kintone import query as kq
from ..kintone.readahead import Ahead
from ..model import EntitySet, Model, NavigationProperty, UnknownName
from ..odata.errors import bad_request, not_implemented
from ..odata.evaluate import matches
from ..odata.options import ExpandItem, QueryOptions
from ..odata.payload import ExpandedCollection, decimal_text
from ..odata.translate import plan_filter
from .entities import (
    ID,
    orderable,
    project,
    record_converter,
    record_fields,
    selected,
    static_entity,
)
from .pages import CallBudget, Page, Window
from .read_plan import RecordQuery, kintone_order
from .records import RecordSource, Scan, check_natural_order
from .static_sets import null_first

LOOKUP_BATCH = 100  # looked-up values per Kintone call (and records expanded at a time)
COMMENTS_PER_CALL = 10  # Kintone's most comments per call
REFERENCE_ROWS = 100  # a reference table's records per record, read in one call
EXPAND_AHEAD = 4  # records whose comments or reference table are read at once
# What the nested options of each kind of navigation may use.
_ALLOWED = {
    "rows": {"select", "filter", "orderby", "top", "skip", "count"},
    "comments": {"select", "filter", "orderby", "top"},
    "lookup": {"select"},
    "reference": {"select", "filter", "orderby", "top", "skip"},
}


@dataclass(frozen=True)
class Expansion:
    """One expanded navigation property, checked against the model."""

    nav: NavigationProperty
    options: QueryOptions
    target: EntitySet
    names: tuple[str, ...]  # the target's properties each related entity holds
    raw: tuple[tuple[str, str], ...]  # the nested options as given, for next links


def plan_expand(model: Model, entity_set: EntitySet, items: Sequence[ExpandItem]
                ) -> tuple[Expansion, ...]:
    """The expansions ``$expand`` asks for; a 400 for an unknown name or a nested option the
    navigation property cannot take, a 501 for one the gateway does not implement."""
    return tuple(_plan_item(model, entity_set, item) for item in items)


def _plan_item(model: Model, entity_set: EntitySet, item: ExpandItem) -> Expansion:
    try:
        nav = entity_set.entity_type.navigation_property(item.name)
    except UnknownName:
        raise bad_request(f"The type {entity_set.entity_type.name} has no navigation property "
                          f"'{item.name}'.", "$expand") from None
    target = model.entity_set(nav.target)
    options = item.options
    _check_nested(nav, options)
    if options.filter is not None:
        plan = plan_filter(options.filter, target)  # checks names and types (400)
        if nav.kind == "reference" and plan.residual is not None:
            raise not_implemented(f"Kintone cannot answer this $filter inside $expand of "
                                  f"{nav.name} exactly: read {nav.name} from its own URL "
                                  "for it.", "$expand")
    if nav.kind == "comments":
        check_natural_order(target, options.orderby, ("Id",))
    for order in options.orderby:
        orderable(target, order.path)
    if nav.kind == "reference":
        kintone_order(target, options.orderby)  # 501 for what Kintone cannot sort by
    return Expansion(nav, options, target, selected(target, options.select), item.raw)


def _check_nested(nav: NavigationProperty, options: QueryOptions) -> None:
    used = {name for name in _ALLOWED["rows"] if getattr(options, name) not in (None, (), False)}
    refused = used - _ALLOWED[nav.kind]
    if not refused:
        return
    names = ", ".join(f"${name}" for name in sorted(refused))
    if nav.kind == "lookup":
        raise bad_request(f"{nav.name} is a single record: only $select may be nested in its "
                          f"$expand, not {names}.", "$expand")
    raise not_implemented(f"{names} inside $expand of {nav.name} is not supported (read "
                          f"{nav.name} from its own URL for them).", "$expand")


def records_per_page(expansions: Sequence[Expansion], wanted: int, calls_left: int) -> int:
    """Records per page with ``expansions``: at most ``wanted`` ([gateway] ExpandPageSize),
    and few enough that their calls fit in ``calls_left`` of the request's budget."""
    per_record = sum(_calls_per_record(e) for e in expansions)
    lookups = sum(1 for e in expansions if e.nav.kind == "lookup")
    fitting = (calls_left - lookups * -(-wanted // LOOKUP_BATCH)) // max(per_record, 1)
    return max(1, min(wanted, fitting))


def _calls_per_record(expansion: Expansion) -> int:
    if expansion.nav.kind == "comments":
        return 1
    if expansion.nav.kind == "reference":  # another call counts the records to sort
        return 2 if expansion.options.orderby else 1
    return 0


def source_names(entity_set: EntitySet, expansions: Iterable[Expansion]) -> tuple[str, ...]:
    """The properties of the expanded entities that the expansions read (a subtable, a lookup
    field), selected or not."""
    return tuple(entity_set.property_for_code(e.nav.source).name
                 for e in expansions if e.nav.source is not None)


class Expander:
    """Adds the expansions to entities of one record set, ``LOOKUP_BATCH`` entities at a time."""

    def __init__(self, client: KintoneClient, entity_set: EntitySet,
                 expansions: Sequence[Expansion], budget: CallBudget) -> None:
        self._client = client
        self._entity_set = entity_set
        self._expansions = expansions
        self._budget = budget

    def expand(self, entities: Iterable[dict]) -> Iterator[dict]:
        it = iter(entities)
        while batch := list(islice(it, LOOKUP_BATCH)):
            found = {e.nav.name: self._lookup(e, batch)
                     for e in self._expansions if e.nav.kind == "lookup"}
            yield from self._in_order(batch, found)

    def _in_order(self, batch: list[dict], found: Mapping[str, Mapping[str, dict]]
                  ) -> Iterator[dict]:
        """The batch's entities with their expansions, in order; the per-record calls of the
        next ``EXPAND_AHEAD`` entities run meanwhile, so that their waits for Kintone overlap
        (each call still takes a slot of the transport's cap)."""
        pending: deque[Ahead[dict]] = deque()
        try:
            for entity in batch:
                pending.append(Ahead(partial(self._expanded, entity, found)))
                if len(pending) == EXPAND_AHEAD:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fetching in pending:  # a client that went away: nothing outlives the request
                fetching.settle()

    def _expanded(self, entity: dict, found: Mapping[str, Mapping[str, dict]]) -> dict:
        return {**entity, **{e.nav.name: self._related(e, entity, found)
                             for e in self._expansions}}

    def _related(self, expansion: Expansion, entity: dict,
                 found: Mapping[str, Mapping[str, dict]]) -> Any:
        kind = expansion.nav.kind
        if kind == "lookup":
            return found[expansion.nav.name].get(_key_text(self._source_value(expansion, entity)))
        if kind == "rows":
            return _rows(expansion, entity[self._entity_set.name_for_code(ID)],
                         self._source_value(expansion, entity))
        if kind == "reference":
            return self._reference(expansion, _key_text(self._source_value(expansion, entity)))
        return self._comments(expansion, entity[self._entity_set.name_for_code(ID)])

    def _source_value(self, expansion: Expansion, entity: dict) -> Any:
        return entity[self._entity_set.property_for_code(expansion.nav.source or "").name]

    def _lookup(self, expansion: Expansion, batch: list[dict]) -> dict[str, dict]:
        """The looked-up records of a batch of entities, by their key value."""
        keys = sorted({_key_text(self._source_value(expansion, e)) for e in batch} - {""})
        if not keys:
            return {}
        return lookup_records(self._client, expansion.nav, expansion.target, keys,
                              expansion.names)

    def _reference(self, expansion: Expansion, value: str) -> ExpandedCollection:
        if not value:
            return ExpandedCollection([])
        options = expansion.options
        source = reference_source(self._client, expansion.nav, expansion.target, value,
                                  options, expansion.names, self._budget)
        window = Window(size=REFERENCE_ROWS, skip=options.skip or 0, left=options.top)
        page = Page(*source.read(None, window))
        with closing(page):
            entities = list(page)
        return ExpandedCollection(entities, next_state=page.next_state)

    def _comments(self, expansion: Expansion, record_id: int) -> ExpandedCollection:
        options = expansion.options
        top = options.top
        if top == 0:
            return ExpandedCollection([])
        app = self._entity_set.app_id
        assert app is not None
        try:
            # Only the top comments are needed, unless the filter may reject some of them.
            wanted = COMMENTS_PER_CALL if top is None or options.filter else top
            page = self._client.get_comments(app, record_id, order="asc",
                                             limit=min(wanted, COMMENTS_PER_CALL))
        except KintoneNotFound:  # deleted since its page was read
            return ExpandedCollection([])
        given = {"AppId": app, "RecordId": record_id}
        served: list[dict] = []
        for comment in page.comments:
            entity = static_entity(expansion.target.entity_type, comment, given)
            if options.filter is None or matches(options.filter, entity):
                served.append(project(entity, expansion.names))
        more = page.newer and (top is None or len(served) < top)
        # A skiptoken's state: the comment source's position under "at", as pages write it.
        state = ({"at": {"id": record_id, "c": len(page.comments)}, "n": len(served)}
                 if more else None)
        return ExpandedCollection(served, next_state=state)


def lookup_records(client: KintoneClient, nav: NavigationProperty, target: EntitySet,
                   keys: Sequence[str], names: tuple[str, ...]) -> dict[str, dict]:
    """The records a lookup finds for at most ``LOOKUP_BATCH`` key values, by key value (one
    call; a lookup's key field holds unique values)."""
    code = nav.related_key or ""
    read = (*names, target.name_for_code(code))
    convert = record_converter(target.entity_type, read)
    query = f"{kq.field(code)} in ({', '.join(kq.quote(key) for key in keys)}) limit 500"
    assert target.app_id is not None
    page = client.get_records(target.app_id, query, record_fields(target.entity_type, read))
    return {str(record[code]["value"]): project(convert(record), names)
            for record in page.records}


def reference_source(client: KintoneClient, nav: NavigationProperty, target: EntitySet,
                     value: str, options: QueryOptions, names: tuple[str, ...],
                     budget: CallBudget) -> RecordSource:
    """The records a reference table lists for a record whose matched field holds ``value``:
    the table's own condition and the nested ``$filter`` pushed to Kintone."""
    condition = f"{kq.field(nav.related_key or '')} = {kq.quote(value)}"
    if nav.condition:
        condition = f"{condition} and ({nav.condition})"
    query = RecordQuery.of(target, options, client.settings, names=names, within=condition)
    return RecordSource(Scan(client, query), budget)


def _rows(expansion: Expansion, record_id: int, rows: list[dict] | None) -> ExpandedCollection:
    """A record's subtable rows as the subtable set's entities, with the nested options."""
    options = expansion.options
    entities = [{"RecordId": record_id, **row} for row in rows or []]
    if options.filter is not None:
        entities = [e for e in entities if matches(options.filter, e)]
    for item in reversed(options.orderby):  # stable sorts, least significant key first
        entities.sort(key=null_first(item.path), reverse=item.descending)
    count = len(entities) if options.count else None
    start = options.skip or 0
    end = None if options.top is None else start + options.top
    return ExpandedCollection([project(e, expansion.names) for e in entities[start:end]], count)


def _key_text(value: Any) -> str:
    """A looked-up value as Kintone writes it in a record."""
    if value is None:
        return ""
    return decimal_text(value) if isinstance(value, Decimal) else str(value)
