"""Planning: the Kintone condition for a filter node being true or false, including
functions (``year``) and ``any`` lambdas over collections and subtables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from odata_query import ast

from gateway.kintone.query import quote

from ..evaluate import literal_value
from .conditions import FALSE, NOTHING, TRUE, _and, _Cond, _is_not, _loose, _or
from .paths import _Path, _resolve, _Scope
from .predicates import (
    _ORDERED,
    _TEMPORAL,
    _codes,
    _Field,
    _field,
    _handler,
    _predicate,
    _temporal_literal,
)

_COMPARATORS: Mapping[type, str] = {
    ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
    ast.In: "in",
}
_FLIPPED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
# The operator that is true exactly when the comparison is false, and whether that also holds
# for null (ordered comparisons with null are false, so their negation is true).
_NEGATED = {
    "eq": ("ne", False), "ne": ("eq", False), "in": ("nin", False), "nin": ("in", False),
    "gt": ("le", True), "ge": ("lt", True), "lt": ("ge", True), "le": ("gt", True),
}

def _plan(node: ast._Node, positive: bool, scope: _Scope) -> _Cond:
    """The condition for "``node`` is true" (``positive``) or "``node`` is false"."""
    if isinstance(node, ast.BoolOp):
        left = _plan(node.left, positive, scope)
        right = _plan(node.right, positive, scope)
        return _and(left, right) if isinstance(node.op, ast.And) == positive else _or(left, right)
    if _is_not(node):
        return _plan(node.operand, not positive, scope)
    try:
        if isinstance(node, ast.Compare):
            return _plan_compare(node, positive, scope)
        if isinstance(node, ast.CollectionLambda):
            return _plan_lambda(node, positive, scope)
    except ValueError:
        return NOTHING  # a value no Kintone literal can carry (control characters)
    if isinstance(node, ast.Boolean):
        return TRUE if node.py_val == positive else FALSE
    if isinstance(node, ast.Null):
        return FALSE  # null is neither true nor false
    return NOTHING


def _plan_compare(node: ast.Compare, positive: bool, scope: _Scope) -> _Cond:
    op, subject, value = _COMPARATORS[type(node.comparator)], node.left, node.right
    if isinstance(subject, ast._Literal) and op in _FLIPPED:
        op, subject, value = _FLIPPED[op], value, subject
    if not isinstance(value, ast._Literal) or isinstance(value, ast.List) != (op == "in"):
        return NOTHING  # property against property or expression: residual only
    or_null = False
    if not positive:
        op, or_null = _NEGATED[op]
    if isinstance(subject, ast.Call):
        return _plan_call(subject, op, literal_value(value), or_null, scope)
    path = _resolve(subject, scope)
    if path is None or not _in_scope(path, scope):
        return NOTHING
    return _predicate(path, op, literal_value(value), or_null)


def _in_scope(path: _Path, scope: _Scope) -> bool:
    # Inside Subtable/any(...), "row matches" only equals "record matches" for predicates on
    # the row: `Items/any(i: i/Qty gt 5 or Price gt 3)` is false for a record without rows.
    return scope.row_table is None or path.table == scope.row_table


# -- functions ------------------------------------------------------------------------------------


def _plan_call(call: ast.Call, op: str, value: Any, or_null: bool, scope: _Scope) -> _Cond:
    """``year(D) op 2024`` as a range of D; other functions stay in the residual."""
    if call.func.name.lower() != "year" or or_null or op not in _ORDERED | {"eq"}:
        return NOTHING
    path = _resolve(call.args[0], scope)
    if path is None or not _in_scope(path, scope) or _handler(path) != _TEMPORAL:
        return NOTHING
    if not isinstance(value, int) or not 1 <= value <= 9998:
        return NOTHING
    start, end = _year_start(path, value), _year_start(path, value + 1)
    target = _field(path)
    bounds = {
        "eq": lambda: _and(target.atom(">=", start), target.atom("<", end)),
        "gt": lambda: target.atom(">=", end),
        "ge": lambda: target.atom(">=", start),
        "lt": lambda: target.atom("<", start),
        "le": lambda: target.atom("<", end),
    }
    cond = bounds[op]()
    return cond if path.row_exact else _loose(cond)


def _year_start(path: _Path, year: int) -> str:
    vtype = _field(path).vtype
    # Entities carry date-times in UTC, so year() counts in UTC.
    start = date(year, 1, 1) if vtype == "DATE" else datetime(year, 1, 1, tzinfo=UTC)
    return _temporal_literal(vtype, start)[0]


# -- lambdas --------------------------------------------------------------------------------------

_OPTION_TYPES = frozenset({"CHECK_BOX", "MULTI_SELECT"})
_VALUE_COLLECTIONS = _OPTION_TYPES | {"CATEGORY"}
_ENTITY_COLLECTIONS = frozenset(
    {"USER_SELECT", "ORGANIZATION_SELECT", "GROUP_SELECT", "STATUS_ASSIGNEE"}
)


def _plan_lambda(node: ast.CollectionLambda, positive: bool, scope: _Scope) -> _Cond:
    collection = _resolve(node.owner, scope)
    if collection is None or isinstance(node.operator, ast.All):
        return NOTHING
    if not _in_scope(collection, scope):
        return NOTHING
    if collection.prop.row_type is not None:
        return _plan_rows(node, collection, positive, scope)
    target = _field(collection)
    if node.lambda_ is None:
        cond = _non_empty(target, positive)
    else:
        listed = _listed(node.lambda_, target.vtype)
        cond = NOTHING if listed is None else _contains(target, listed, positive)
    return cond if collection.row_exact else _loose(cond)


def _non_empty(target: _Field, positive: bool) -> _Cond:
    """``F/any()``: something selected / some file attached."""
    if target.vtype in _OPTION_TYPES:
        return target.atom("not in" if positive else "in", quote(""))
    if target.vtype == "FILE":
        return target.atom("is not empty" if positive else "is empty")
    return NOTHING


def _contains(target: _Field, listed: list[str], positive: bool) -> _Cond:
    allowed = target.options if target.vtype in _OPTION_TYPES else None
    if target.vtype in _OPTION_TYPES and allowed is None:
        return NOTHING
    return _codes(target, "in" if positive else "nin", listed, allowed)


def _listed(lam: ast.Lambda, vtype: str) -> list[str] | None:
    """The values of ``x eq 'a' or x in ('b', 'c')`` (``u/Code`` for users, organisations and
    groups); ``None`` for any other lambda body."""
    var = lam.identifier.name
    if vtype in _VALUE_COLLECTIONS:
        def is_element(node: ast._Node) -> bool:
            return isinstance(node, ast.Identifier) and node.name == var
    elif vtype in _ENTITY_COLLECTIONS:
        def is_element(node: ast._Node) -> bool:
            return (isinstance(node, ast.Attribute) and node.attr == "Code"
                    and isinstance(node.owner, ast.Identifier) and node.owner.name == var)
    else:
        return None
    return _listed_values(lam.expression, is_element)


def _listed_values(node: ast._Node, is_element: Callable[[ast._Node], bool]) -> list[str] | None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        left = _listed_values(node.left, is_element)
        right = _listed_values(node.right, is_element)
        return None if left is None or right is None else left + right
    if not isinstance(node, ast.Compare) or not isinstance(node.comparator, ast.Eq | ast.In):
        return None
    subject, value = node.left, node.right
    if isinstance(subject, ast._Literal) and isinstance(node.comparator, ast.Eq):
        subject, value = value, subject
    if not (is_element(subject) and isinstance(value, ast._Literal)):
        return None
    values = literal_value(value)
    # Elements are never null, so a listed null matches nothing.
    return [v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)]


def _plan_rows(
    node: ast.CollectionLambda, rows: _Path, positive: bool, scope: _Scope
) -> _Cond:
    """``Items/any(i: ...)``: Kintone's row predicates already mean "some row"."""
    if not positive or node.lambda_ is None:
        return NOTHING  # "no row" and "has rows" have no Kintone form
    inner = scope.bind(node.lambda_.identifier.name, rows)
    cond = _plan(node.lambda_.expression, True, inner)
    if cond.kind in ("all", "none"):
        return cond if cond.kind == "none" else NOTHING
    # Kintone keeps one row for the predicates of one `and`; whether that reaches into a nested
    # `or` is not documented, so such a shape is only a superset.
    exact = cond.exact and not _and_over_or(cond)
    return replace(cond, exact=exact, tables=cond.tables | {rows.prop.kintone_code or ""})


def _and_over_or(cond: _Cond) -> bool:
    if cond.kind == "and" and any(part.kind == "or" for part in cond.parts):
        return True
    return any(_and_over_or(part) for part in cond.parts)
