"""Planning: the Kintone condition for a filter node being true or false, including
functions (``year``) and ``any`` lambdas over collections and subtables."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from odata_query import ast

from gateway.kintone.query import quote

from ..evaluate import literal_value
from ..tree import Literal, Node, Visitor
from .conditions import FALSE, NOTHING, TRUE, Cond, and_, loose, or_
from .paths import Path, Scope, resolve
from .predicates import ORDERED, Field, codes, field_of, is_temporal, predicate, temporal_literal

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


def conjuncts(node: Node) -> Iterator[Node]:
    """The top-level ``and`` terms (after De Morgan), so exact ones leave the residual."""
    return _Conjuncts().visit(node)


class _Conjuncts(Visitor):
    """``not (a or b)`` splits as ``not a``, ``not b``; ``not not a`` as ``a``."""

    def generic_visit(self, node: Node) -> Iterator[Node]:
        yield node

    def visit_BoolOp(self, node: ast.BoolOp) -> Iterator[Node]:
        if not isinstance(node.op, ast.And):
            yield node
            return
        yield from self.visit(node.left)
        yield from self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Iterator[Node]:
        inner = node.operand
        if not isinstance(node.op, ast.Not):
            yield node
        elif isinstance(inner, ast.BoolOp) and isinstance(inner.op, ast.Or):
            yield from self.visit(ast.UnaryOp(ast.Not(), inner.left))
            yield from self.visit(ast.UnaryOp(ast.Not(), inner.right))
        elif isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.Not):
            yield from self.visit(inner.operand)
        else:
            yield node


def plan(node: Node, scope: Scope, positive: bool = True) -> Cond:
    """The condition for "``node`` is true" (``positive``) or "``node`` is false"."""
    return _Planner(scope, positive).visit(node)


class _Planner(Visitor):
    """``not`` flips ``positive`` for the operand; what Kintone cannot express is ``NOTHING``."""

    def __init__(self, scope: Scope, positive: bool) -> None:
        self._scope = scope
        self._positive = positive

    def generic_visit(self, node: Node) -> Cond:
        return NOTHING

    def visit_BoolOp(self, node: ast.BoolOp) -> Cond:
        left, right = self.visit(node.left), self.visit(node.right)
        return and_(left, right) if isinstance(node.op, ast.And) == self._positive \
            else or_(left, right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Cond:
        if not isinstance(node.op, ast.Not):
            return NOTHING
        return _Planner(self._scope, not self._positive).visit(node.operand)

    def visit_Boolean(self, node: ast.Boolean) -> Cond:
        return TRUE if node.py_val == self._positive else FALSE

    def visit_Null(self, node: ast.Null) -> Cond:
        return FALSE  # null is neither true nor false

    def visit_Compare(self, node: ast.Compare) -> Cond:
        try:
            return _plan_compare(node, self._positive, self._scope)
        except ValueError:
            return NOTHING  # a value no Kintone literal can carry (control characters)

    def visit_CollectionLambda(self, node: ast.CollectionLambda) -> Cond:
        try:
            return _plan_lambda(node, self._positive, self._scope)
        except ValueError:
            return NOTHING


def _plan_compare(node: ast.Compare, positive: bool, scope: Scope) -> Cond:
    op, subject, value = _COMPARATORS[type(node.comparator)], node.left, node.right
    if isinstance(subject, Literal) and op in _FLIPPED:
        op, subject, value = _FLIPPED[op], value, subject
    if not isinstance(value, Literal) or isinstance(value, ast.List) != (op == "in"):
        return NOTHING  # property against property or expression: residual only
    or_null = False
    if not positive:
        op, or_null = _NEGATED[op]
    if isinstance(subject, ast.Call):
        return _plan_call(subject, op, literal_value(value), or_null, scope)
    path = resolve(subject, scope)
    if path is None or not _in_scope(path, scope):
        return NOTHING
    return predicate(path, op, literal_value(value), or_null)


def _in_scope(path: Path, scope: Scope) -> bool:
    # Inside Subtable/any(...), "row matches" only equals "record matches" for predicates on
    # the row: `Items/any(i: i/Qty gt 5 or Price gt 3)` is false for a record without rows.
    return scope.row_table is None or path.table == scope.row_table


# -- functions ------------------------------------------------------------------------------------


def _plan_call(call: ast.Call, op: str, value: Any, or_null: bool, scope: Scope) -> Cond:
    """``year(D) op 2024`` as a range of D; other functions stay in the residual."""
    if call.func.name.lower() != "year" or or_null or op not in ORDERED | {"eq"}:
        return NOTHING
    path = resolve(call.args[0], scope)
    if path is None or not _in_scope(path, scope) or not is_temporal(path):
        return NOTHING
    if not isinstance(value, int) or not 1 <= value <= 9998:
        return NOTHING
    start, end = _year_start(path, value), _year_start(path, value + 1)
    target = field_of(path)
    bounds = {
        "eq": lambda: and_(target.atom(">=", start), target.atom("<", end)),
        "gt": lambda: target.atom(">=", end),
        "ge": lambda: target.atom(">=", start),
        "lt": lambda: target.atom("<", start),
        "le": lambda: target.atom("<", end),
    }
    cond = bounds[op]()
    return cond if path.row_exact else loose(cond)


def _year_start(path: Path, year: int) -> str:
    vtype = field_of(path).vtype
    # Entities carry date-times in UTC, so year() counts in UTC.
    start = date(year, 1, 1) if vtype == "DATE" else datetime(year, 1, 1, tzinfo=UTC)
    return temporal_literal(vtype, start)[0]


# -- lambdas --------------------------------------------------------------------------------------

_OPTION_TYPES = frozenset({"CHECK_BOX", "MULTI_SELECT"})
_VALUE_COLLECTIONS = _OPTION_TYPES | {"CATEGORY"}
_ENTITY_COLLECTIONS = frozenset(
    {"USER_SELECT", "ORGANIZATION_SELECT", "GROUP_SELECT", "STATUS_ASSIGNEE"}
)


def _plan_lambda(node: ast.CollectionLambda, positive: bool, scope: Scope) -> Cond:
    collection = resolve(node.owner, scope)
    if collection is None or isinstance(node.operator, ast.All):
        return NOTHING
    if not _in_scope(collection, scope):
        return NOTHING
    if collection.prop.row_type is not None:
        return _plan_rows(node, collection, positive, scope)
    target = field_of(collection)
    if node.lambda_ is None:
        cond = _non_empty(target, positive)
    else:
        listed = _listed(node.lambda_, target.vtype)
        cond = NOTHING if listed is None else _contains(target, listed, positive)
    return cond if collection.row_exact else loose(cond)


def _non_empty(target: Field, positive: bool) -> Cond:
    """``F/any()``: something selected / some file attached."""
    if target.vtype in _OPTION_TYPES:
        return target.atom("not in" if positive else "in", quote(""))
    if target.vtype == "FILE":
        return target.atom("is not empty" if positive else "is empty")
    return NOTHING


def _contains(target: Field, listed: list[str], positive: bool) -> Cond:
    allowed = target.options if target.vtype in _OPTION_TYPES else None
    if target.vtype in _OPTION_TYPES and allowed is None:
        return NOTHING
    return codes(target, "in" if positive else "nin", listed, allowed)


def _listed(lam: ast.Lambda, vtype: str) -> list[str] | None:
    """The values of ``x eq 'a' or x in ('b', 'c')`` (``u/Code`` for users, organisations and
    groups); ``None`` for any other lambda body."""
    var = lam.identifier.name
    if vtype in _VALUE_COLLECTIONS:
        def is_element(node: Node) -> bool:
            return isinstance(node, ast.Identifier) and node.name == var
    elif vtype in _ENTITY_COLLECTIONS:
        def is_element(node: Node) -> bool:
            return (isinstance(node, ast.Attribute) and node.attr == "Code"
                    and isinstance(node.owner, ast.Identifier) and node.owner.name == var)
    else:
        return None
    return _Listed(is_element).visit(lam.expression)


class _Listed(Visitor):
    """The listed values of an ``or`` of ``element eq/in literal``, else ``None``."""

    def __init__(self, is_element: Callable[[Node], bool]) -> None:
        self._is_element = is_element

    def generic_visit(self, node: Node) -> None:
        return None

    def visit_BoolOp(self, node: ast.BoolOp) -> list[str] | None:
        if not isinstance(node.op, ast.Or):
            return None
        left, right = self.visit(node.left), self.visit(node.right)
        return None if left is None or right is None else left + right

    def visit_Compare(self, node: ast.Compare) -> list[str] | None:
        if not isinstance(node.comparator, ast.Eq | ast.In):
            return None
        subject, value = node.left, node.right
        if isinstance(subject, Literal) and isinstance(node.comparator, ast.Eq):
            subject, value = value, subject
        if not (self._is_element(subject) and isinstance(value, Literal)):
            return None
        values = literal_value(value)
        # Elements are never null, so a listed null matches nothing.
        listed = values if isinstance(values, list) else [values]
        return [v for v in listed if isinstance(v, str)]


def _plan_rows(
    node: ast.CollectionLambda, rows: Path, positive: bool, scope: Scope
) -> Cond:
    """``Items/any(i: ...)``: Kintone's row predicates already mean "some row"."""
    if not positive or node.lambda_ is None:
        return NOTHING  # "no row" and "has rows" have no Kintone form
    inner = scope.bind(node.lambda_.identifier.name, rows)
    cond = plan(node.lambda_.expression, inner)
    if cond.kind in ("all", "none"):
        return cond if cond.kind == "none" else NOTHING
    # Kintone keeps one row for the predicates of one `and`; whether that reaches into a nested
    # `or` is not documented, so such a shape is only a superset.
    exact = cond.exact and not _and_over_or(cond)
    return replace(cond, exact=exact, tables=cond.tables | {rows.prop.kintone_code or ""})


def _and_over_or(cond: Cond) -> bool:
    if cond.kind == "and" and any(part.kind == "or" for part in cond.parts):
        return True
    return any(_and_over_or(part) for part in cond.parts)
