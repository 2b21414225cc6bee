"""The sets every service has: ``Apps`` and ``Fields`` (small, filtered and sorted in memory) and
``Comments`` (streamed record by record, 10 comments per Kintone call).

Kintone reads comments per record only, so a ``Comments`` query must name its app with
``AppId eq N``, as CData's Kintone provider and the Power Automate flows built on it do. Its
records are those ``RecordId eq M`` or ``RecordId in (...)`` names, else every record matching
the comparisons of ``RecordId`` with numbers (read from Kintone as a condition on ``$id``); each
only when it is a term of the filter's top-level ``and``. The whole filter is checked in the
gateway.

Without any ``$filter`` (Power BI's navigator previews every set of the service document so),
``Comments`` is a bounded preview: the comments of the ``PREVIEW_RECORDS`` newest records
(highest ids) of the first exposed app the caller may read (lowest app id), one Kintone call for
the ids and one per record and ten comments. A ``$filter`` that does not name the app is still
a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from odata_query import ast

from ..kintone import KintoneClient, KintoneNotFound, iter_comments, iter_records
from ..kintone import query as kq
from ..model import EntitySet, Model, UnknownName
from ..odata.errors import ODataError, bad_request, not_found
from ..odata.evaluate import matches
from ..odata.numbers import FIRST_ID, INT64_MAX
from ..odata.options import OrderItem
from ..odata.translate import FilterPlan
from ..odata.tree import Node
from ..security import can, require
from . import trace
from .entities import ID, orderable, project, static_entity
from .pages import Items, Position, Window, count_all

PREVIEW_RECORDS = 10


@dataclass(frozen=True)
class ListSource:
    """A set small enough to hold: loaded whole per request, then filtered and sorted."""

    entity_set: EntitySet
    load: Callable[[], list[dict]]
    plan: FilterPlan
    names: tuple[str, ...]
    orderby: Sequence[OrderItem] = ()

    def read(self, state: Position | None, window: Window) -> tuple[Items, Window]:
        trace.planned(None, self.plan.residual)  # no Kintone query: filtered here
        return self._items(state["o"] if state else 0), window

    def count(self) -> int:
        trace.planned(None, self.plan.residual)
        return len(self._matching())

    def entity(self, key: Mapping[str, Any]) -> dict | None:
        found = (e for e in self.load() if all(e[name] == value for name, value in key.items()))
        entity = next(found, None)
        return None if entity is None else project(entity, self.names)

    def _items(self, start: int) -> Items:
        for position, entity in enumerate(self._matching()[start:], start + 1):
            yield project(entity, self.names), {"o": position}

    def _matching(self) -> list[dict]:
        residual = self.plan.residual
        entities = [e for e in self.load() if residual is None or matches(residual, e)]
        for item in reversed(self.orderby):  # stable sorts, least significant key first
            orderable(self.entity_set, item.path)
            entities.sort(key=null_first(item.path), reverse=item.descending)
        return entities


def null_first(name: str) -> Callable[[dict], tuple[bool, Any]]:
    """The sort key of entities by the property ``name``: OData sorts null before every
    value."""
    return lambda entity: (entity[name] is not None, entity[name])


def app_entities(entity_set: EntitySet, apps: list[dict]) -> list[dict]:
    return [static_entity(entity_set.entity_type, app) for app in apps]


def field_entities(model: Model) -> list[dict]:
    return [form_field.to_odata() for form_field in model.form_fields]


@dataclass(frozen=True)
class CommentSource:
    """The comments of one app's records (or of one record), oldest first per record, so that
    positions (record id, comments read) stay right while comments are added."""

    client: KintoneClient
    entity_set: EntitySet
    plan: FilterPlan
    names: tuple[str, ...]
    app: int
    records: tuple[int, ...] | None = None  # None: every record of the app matching ``condition``
    condition: str = ""  # on the app's records, in Kintone's query language

    @classmethod
    def for_filter(cls, client: KintoneClient, model: Model, entity_set: EntitySet,
                   plan: FilterPlan, names: tuple[str, ...]) -> CommentSource:
        tree = plan.residual
        if tree is None:
            return cls._preview(client, model, entity_set, names)
        app = _equals(tree, "AppId")
        if app is None:
            raise bad_request("Comments need the app in the filter: $filter=AppId eq <app id> "
                              "(and optionally RecordId eq <record id>).", "$filter")
        _check_exposed(model, app)
        return cls(client, entity_set, plan, names, app, _listed(tree), _id_condition(tree))

    @classmethod
    def _preview(cls, client: KintoneClient, model: Model, entity_set: EntitySet,
                 names: tuple[str, ...]) -> CommentSource:
        apps = sorted(s.app_id for s in model.entity_sets.values()  # those the caller may read
                      if s.kind == "records" and s.app_id is not None and can("GET", s.name))
        if not apps:
            return cls(client, entity_set, FilterPlan("", None), names, 0, ())
        newest = client.get_records(apps[0], f"order by {ID} desc limit {PREVIEW_RECORDS}",
                                    [ID]).records
        ids = sorted(int(record[ID]["value"]) for record in newest)
        return cls(client, entity_set, FilterPlan("", None), names, apps[0], tuple(ids))

    @classmethod
    def for_app(cls, client: KintoneClient, model: Model, entity_set: EntitySet,
                names: tuple[str, ...], app: int) -> CommentSource:
        _check_exposed(model, app, missing=not_found)  # the key of a comment names no app
        return cls(client, entity_set, FilterPlan("", None), names, app)

    def read(self, state: Position | None, window: Window) -> tuple[Items, Window]:
        trace.planned(None, self.plan.residual)  # no Kintone query: filtered here
        return self._comments(state), window

    def count(self) -> int:
        trace.planned(None, self.plan.residual)
        return count_all(self._comments(None))

    def entity(self, key: Mapping[str, int]) -> dict | None:
        for comment in self._of_record(key["RecordId"]):
            if int(comment["id"]) == key["Id"]:
                return project(self._entity(key["RecordId"], comment), self.names)
        return None

    def _comments(self, state: Position | None) -> Items:
        residual = self.plan.residual
        with closing(self._record_ids(state["id"] - 1 if state else None)) as record_ids:
            for record_id in record_ids:
                done = state["c"] if state and state["id"] == record_id else 0
                for number, comment in enumerate(self._of_record(record_id), 1):
                    entity = self._entity(record_id, comment)
                    if number > done:
                        wanted = residual is None or matches(residual, entity)
                        yield (project(entity, self.names) if wanted else None,
                               {"id": record_id, "c": number})
                yield None, {"id": record_id + 1, "c": 0}  # read: a page may stop here

    def _record_ids(self, after: int | None) -> Generator[int, None, None]:
        if self.records is not None:
            yield from (record for record in self.records if after is None or record > after)
            return
        records = iter_records(self.client, self.app, condition=self.condition, fields=[ID],
                               start_after_id=after)
        with closing(records):
            yield from (int(record[ID]["value"]) for record in records)

    def _of_record(self, record_id: int) -> Iterator[dict]:
        try:
            yield from iter_comments(self.client, self.app, record_id, order="asc")
        except KintoneNotFound:  # the record does not exist (any more): no comments
            return

    def _entity(self, record_id: int, comment: dict) -> dict:
        return static_entity(self.entity_set.entity_type, comment,
                             {"AppId": self.app, "RecordId": record_id})


def _check_exposed(model: Model, app: int,
                   missing: Callable[[str, str], ODataError] = bad_request) -> None:
    """The app is exposed and the caller may read its records (and so its comments)."""
    try:
        records = model.records_set(app)
    except UnknownName:
        raise missing(f"App {app} is not exposed by this service.", "AppId") from None
    require("GET", records.name, ", which reading its comments needs")


def _equals(tree: Node, name: str) -> int | None:
    """N when ``name eq N`` (an integer) is one of the top-level ``and`` terms of ``tree``."""
    return next((values[0] for op, values in _compared(tree, name) if op is ast.Eq), None)


def _listed(tree: Node) -> tuple[int, ...] | None:
    """The records a top-level ``RecordId eq N`` or ``RecordId in (...)`` names, without those
    no Kintone record can have; None when no such term limits them."""
    for op, values in _compared(tree, "RecordId"):
        if op in (ast.Eq, ast.In):
            return tuple(sorted({n for n in values if FIRST_ID <= n <= INT64_MAX}))
    return None


def _id_condition(tree: Node) -> str:
    """The top-level comparisons of ``RecordId`` with a number, as a Kintone condition."""
    return kq.where("", *(f"{ID} {_KINTONE_OPERATORS[op]} {values[0]}"
                          for op, values in _compared(tree, "RecordId")
                          if op in _KINTONE_OPERATORS and 0 <= values[0] <= INT64_MAX))


_KINTONE_OPERATORS = {ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_MIRRORED = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE}


def _compared(tree: Node, name: str) -> Iterator[tuple[type, list[int]]]:
    """``(operator, numbers)`` of each top-level ``and`` term of ``tree`` comparing ``name`` with
    integers (``name in (...)`` too), ``name`` read as the left side."""
    if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And):
        yield from _compared(tree.left, name)
        yield from _compared(tree.right, name)
        return
    if not isinstance(tree, ast.Compare):
        return
    op = type(tree.comparator)
    left, right = tree.left, tree.right
    if not _names(left, name) and _names(right, name) and op in (ast.Eq, ast.NotEq, *_MIRRORED):
        left, right, op = right, left, _MIRRORED.get(op, op)
    if not _names(left, name):
        return
    items = right.val if isinstance(right, ast.List) else [right]
    numbers = [int(item.val) for item in items if isinstance(item, ast.Integer)]
    if len(numbers) == len(items):
        yield op, numbers


def _names(node: Node, name: str) -> bool:
    return isinstance(node, ast.Identifier) and node.name == name and not node.namespace
