"""Planning and running reads: a collection page, a count, an entity by key.

request → plan (``$filter`` split into a Kintone condition and a residual, ``$select`` into the
Kintone ``fields``, ``$orderby`` into ``order by``) → a *source* per kind of entity set, which
yields entities lazily with the position a next page would resume from → a ``Page`` cut at the
page size. Nothing holds more than one Kintone page of records at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from ..kintone import KintoneClient
from ..model import ComplexType, EntitySet, Model
from ..odata.options import QueryOptions
from ..odata.translate import FilterPlan, plan_filter
from ..settings import KintoneSettings
from .entities import selected
from .pages import CallBudget, Item, Page, Position, Window
from .records import RecordSource, Scan, SubtableSource, check_natural_order, kintone_order
from .schema import list_apps
from .skiptoken import SkipTokens
from .static_sets import CommentSource, ListSource, app_entities, field_entities

COMMENT_ORDER = ("AppId", "RecordId", "Id")


class Source(Protocol):
    def read(self, state: Position | None, window: Window) -> tuple[Iterator[Item], Window]:
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


class Reader:
    def __init__(self, client: KintoneClient, settings: KintoneSettings,
                 tokens: SkipTokens, budget: CallBudget) -> None:
        self._client = client
        self._settings = settings
        self._tokens = tokens
        self._budget = budget

    def page(self, model: Model, query: CollectionQuery) -> Page:
        """One page of a collection, lazily read; ``Page.next_token`` after it is consumed."""
        options = query.options
        spent = self._budget.page()
        state = (self._tokens.decode(options.skiptoken, query.fingerprint)
                 if options.skiptoken else None)
        source = self._source(model, query.entity_set, options, json_ready=query.json_ready)
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
               options: QueryOptions) -> dict | None:
        """The entity with ``key`` (checked by the caller against the key's names and types),
        None when there is none."""
        names = selected(entity_set, options.select)
        if entity_set.kind == "comments":
            source: Source = CommentSource.for_app(self._client, model, entity_set, names,
                                                   key["AppId"])
        else:
            source = self._source(model, entity_set, QueryOptions(select=options.select))
        return source.entity(key)

    def _source(self, model: Model, entity_set: EntitySet, options: QueryOptions, *,
                json_ready: bool = False) -> Source:
        names = selected(entity_set, options.select)
        plan = (plan_filter(options.filter, entity_set) if options.filter is not None
                else FilterPlan("", None))
        kind = entity_set.kind
        if kind == "records":
            order = kintone_order(entity_set, options.orderby)
            return RecordSource(Scan(self._client, entity_set, plan, names, json_ready), order,
                                self._budget)
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

    def __init__(self, items: Iterator[Item], window: Window, count: int | None,
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
