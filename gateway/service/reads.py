"""Planning and running reads: a collection page, a count, an entity by key.

request → plan (``$filter`` split into a Kintone condition and a residual, ``$select`` into the
Kintone ``fields``, ``$orderby`` into ``order by``) → a *source* per kind of entity set, which
yields entities lazily with the position a next page would resume from → a ``Page`` cut at the
page size. Nothing holds more than one Kintone page of records at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from ..kintone import KintoneClient, KintoneNotFound
from ..model import ComplexType, EntitySet, Model, NavigationProperty
from ..odata.errors import not_found
from ..odata.options import QueryOptions
from ..odata.syntax import parse_filter
from ..odata.translate import FilterPlan, plan_filter
from ..settings import KintoneSettings
from . import trace
from .entities import selected
from .expand import Expander, Expansion, lookup_records, reference_source
from .pages import CallBudget, Items, Page, Position, Window
from .read_plan import RecordQuery
from .records import RecordSource, Scan, SubtableSource, check_natural_order
from .schema import list_apps
from .skiptoken import SkipTokens
from .static_sets import CommentSource, ListSource, app_entities, field_entities

COMMENT_ORDER = ("AppId", "RecordId", "Id")


class Source(Protocol):
    def read(self, state: Position | None, window: Window) -> tuple[Items, Window]:
        """The entities from ``state`` on (None: the first page); the window may change (a
        ``$skip`` pushed to Kintone, one page for everything)."""

    def count(self) -> int: ...

    def entity(self, key: Mapping[str, Any]) -> dict | None: ...


@dataclass(frozen=True)
class CollectionQuery:
    entity_set: EntitySet
    options: QueryOptions
    page_size: int
    # The options that define the result (set, $filter, $orderby, $top, $skip ...): a skiptoken
    # is only valid with the same ones.
    fingerprint: str
    # The entities are only written out in JSON without IEEE754Compatible: record values may
    # come in their JSON form (see ``entities.record_converter``).
    json_ready: bool = False
    # Properties read beyond the selection (what ``$expand`` reads: a subtable, a lookup field).
    extra: tuple[str, ...] = ()


class Reader:
    def __init__(self, client: KintoneClient, settings: KintoneSettings,
                 tokens: SkipTokens, budget: CallBudget) -> None:
        self._client = client
        self._settings = settings
        self._tokens = tokens
        self._budget = budget

    def page(self, model: Model, query: CollectionQuery) -> TokenPage:
        """One page of a collection, lazily read; ``Page.next_token`` after it is consumed."""
        source = self._source(model, query.entity_set, query.options,
                              json_ready=query.json_ready, extra=query.extra)
        return self._page(source, query)

    def navigation_page(self, model: Model, entity_set: EntitySet, record_id: int,
                        nav: NavigationProperty, query: CollectionQuery) -> TokenPage:
        """One page of a record's comments (``Set(Id)/Comments``) or of the records a
        reference table lists for it (``Set(Id)/<table>``); ``query.entity_set`` is the
        navigation's target. A 404 when the record does not exist."""
        source = self._navigation_source(model, entity_set, record_id, nav, query.options,
                                         query.extra)
        return self._page(source, query)

    def navigation_count(self, model: Model, entity_set: EntitySet, record_id: int,
                         nav: NavigationProperty, options: QueryOptions) -> int:
        return self._navigation_source(model, entity_set, record_id, nav, options).count()

    def navigation_entity(self, model: Model, entity_set: EntitySet, record_id: int,
                          nav: NavigationProperty, options: QueryOptions) -> dict | None:
        """The record a lookup of one record points at (``Set(Id)/<lookup>_Record``), None
        when the lookup is empty or finds nothing; a 404 when the record does not exist."""
        assert entity_set.app_id is not None
        target = model.entity_set(nav.target)
        names = selected(target, options.select)
        try:
            record = self._client.get_record(entity_set.app_id, record_id)
        except KintoneNotFound:
            raise not_found(f"{entity_set.name}({record_id}) does not exist.") from None
        value = str((record.get(nav.source or "") or {}).get("value") or "")
        if not value:
            return None
        found = lookup_records(self._client, nav, target, [value], names)
        return found.get(value)

    def _navigation_source(self, model: Model, entity_set: EntitySet, record_id: int,
                           nav: NavigationProperty, options: QueryOptions,
                           extra: tuple[str, ...] = ()) -> Source:
        assert entity_set.app_id is not None
        target = model.entity_set(nav.target)
        names = tuple(dict.fromkeys([*selected(target, options.select), *extra]))
        try:
            record = self._client.get_record(entity_set.app_id, record_id)
        except KintoneNotFound:
            raise not_found(f"{entity_set.name}({record_id}) does not exist.") from None
        plan = (plan_filter(options.filter, target) if options.filter is not None
                else FilterPlan("", None))
        if nav.kind == "comments":
            check_natural_order(target, options.orderby, COMMENT_ORDER)
            return CommentSource(self._client, target, plan, names, entity_set.app_id,
                                 (record_id,))
        if nav.kind == "rows":
            check_natural_order(target, options.orderby, ("RecordId",))
            condition = " and ".join(filter(None, [f"$id = {record_id}", plan.condition]))
            return SubtableSource(self._client, target, _row_type(model, target),
                                  FilterPlan(condition, plan.residual), names)
        value = str((record.get(nav.source or "") or {}).get("value") or "")
        if not value:  # nothing to match: no related records
            return ListSource(target, list, FilterPlan("", None), ())
        return reference_source(self._client, nav, target, value, options, names, self._budget)

    def token(self, state: Position, fingerprint: str) -> str:
        """A skiptoken resuming at ``state`` a request with this fingerprint."""
        return self._tokens.encode(state, fingerprint)

    def expander(self, entity_set: EntitySet, expansions: Sequence[Expansion]) -> Expander:
        return Expander(self._client, entity_set, expansions, self._budget)

    def _page(self, source: Source, query: CollectionQuery) -> TokenPage:
        options = query.options
        spent = self._budget.page()
        state = (self._tokens.decode(options.skiptoken, query.fingerprint)
                 if options.skiptoken else None)
        served = state["n"] if state else 0
        window = Window(
            size=query.page_size,
            skip=state.get("s", 0) if state else options.skip or 0,
            left=None if options.top is None else max(options.top - served, 0),
            served=served,
        )
        count = None
        if options.count:
            count = state["c"] if state and "c" in state else source.count()
        items, window = source.read(state["at"] if state else None, window)
        return TokenPage(items, window, count, self._tokens, query.fingerprint, spent)

    def count(self, model: Model, entity_set: EntitySet, options: QueryOptions) -> int:
        return self._source(model, entity_set, options).count()

    def entity(self, model: Model, entity_set: EntitySet, key: Mapping[str, Any],
               options: QueryOptions, extra: tuple[str, ...] = ()) -> dict | None:
        """The entity with ``key`` (checked by the caller against the key's names and types),
        None when there is none; ``extra``: properties read beyond the selection."""
        names = selected(entity_set, options.select)
        if entity_set.kind == "comments":
            source: Source = CommentSource.for_app(self._client, model, entity_set, names,
                                                   key["AppId"])
        else:
            source = self._source(model, entity_set, QueryOptions(select=options.select),
                                  extra=extra)
        return source.entity(key)

    def entity_where(self, model: Model, entity_set: EntitySet, condition: str,
                     options: QueryOptions, extra: tuple[str, ...] = ()) -> dict | None:
        """The entity matching ``condition`` (a ``$filter`` on an alternate key, which at most
        one entity matches), None when there is none."""
        source = self._source(model, entity_set,
                              QueryOptions(filter=parse_filter(condition), select=options.select,
                                           top=1), extra=extra)
        items, _ = source.read(None, Window(size=1, left=1))
        with closing(items):
            return next((entity for entity, _ in items), None)

    def _source(self, model: Model, entity_set: EntitySet, options: QueryOptions, *,
                json_ready: bool = False, extra: tuple[str, ...] = ()) -> Source:
        with trace.span("plan"):
            return self._planned(model, entity_set, options, json_ready, extra)

    def _planned(self, model: Model, entity_set: EntitySet, options: QueryOptions,
                 json_ready: bool, extra: tuple[str, ...]) -> Source:
        """The source reading ``options``, checked (400/501) and planned: no Kintone call."""
        names = tuple(dict.fromkeys([*selected(entity_set, options.select), *extra]))
        kind = entity_set.kind
        if kind == "records":
            # The client's settings: how many calls it may send at once.
            query = RecordQuery.of(entity_set, options, self._client.settings, names=names,
                                   json_ready=json_ready)
            return RecordSource(Scan(self._client, query), self._budget)
        plan = (plan_filter(options.filter, entity_set) if options.filter is not None
                else FilterPlan("", None))
        if kind == "subtable":
            check_natural_order(entity_set, options.orderby, ("RecordId",))
            return SubtableSource(self._client, entity_set, _row_type(model, entity_set), plan,
                                  names)
        if kind == "comments":
            check_natural_order(entity_set, options.orderby, COMMENT_ORDER)
            return CommentSource.for_filter(self._client, model, entity_set, plan, names)
        load = (partial(self._apps, model, entity_set) if kind == "apps"
                else partial(field_entities, model))
        return ListSource(entity_set, load, plan, names, options.orderby)

    def _apps(self, model: Model, entity_set: EntitySet) -> list[dict]:
        apps = list_apps(self._client, self._settings)
        return app_entities(entity_set, [app for app in apps
                                         if int(app["appId"]) not in model.hidden_apps])


def _row_type(model: Model, entity_set: EntitySet) -> ComplexType:
    parent = model.entity_set(entity_set.parent or "")
    row_type = parent.property_for_code(entity_set.subtable_code or "").row_type
    assert row_type is not None
    return row_type


class TokenPage(Page):
    """A page whose next position comes out as a signed skiptoken, carrying the count so that
    later pages need not count again."""

    def __init__(self, items: Items, window: Window, count: int | None,
                 tokens: SkipTokens, fingerprint: str, spent: Callable[[], bool]) -> None:
        super().__init__(items, window, count, spent)
        self._tokens = tokens
        self._fingerprint = fingerprint

    @property
    def next_token(self) -> str | None:
        if self.next_state is None:
            return None
        state = self.next_state if self.count is None else {**self.next_state, "c": self.count}
        return self._tokens.encode(state, self._fingerprint)
