"""Request-time constants and constant arithmetic in ``$filter``, folded to literals.

``now()``, ``mindatetime()`` and ``maxdatetime()`` become date-time literals (``now()`` the
request's time, to the microsecond), and ``add``/``sub`` of two literals (``now() sub
duration'P30D'``, ``2024-05-01 add duration'P1D'``) becomes one literal: the translator can then
push ``Created gt now() sub duration'P30D'`` to Kintone like any comparison with a literal. An
expression over properties stays as it is (the gateway evaluates it on each entity).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from odata_query import ast
from odata_query.visitor import NodeTransformer

from .evaluate import MAX_DATETIME, MIN_DATETIME, literal_value, temporal_arithmetic
from .tree import Literal, Node


def fold(tree: Node, now: datetime | None = None) -> Node:
    return _Folder(now or datetime.now(UTC)).visit(tree)


class _Folder(NodeTransformer):
    def __init__(self, now: datetime) -> None:
        self._constants = {"now": now, "mindatetime": MIN_DATETIME, "maxdatetime": MAX_DATETIME}

    def visit_Call(self, node: ast.Call) -> Node:
        name = node.func.name.lower()
        if not node.func.namespace and name in self._constants:  # the parser saw no arguments
            return ast.DateTime(_datetime_text(self._constants[name]))
        args = []
        for arg in node.args:  # not a comprehension: that is one more frame per nested call
            args.append(self.visit(arg))
        return ast.Call(node.func, args)

    def visit_BinOp(self, node: ast.BinOp) -> Node:
        folded = ast.BinOp(node.op, self.visit(node.left), self.visit(node.right))
        temporal = (ast.DateTime, ast.Date, ast.Duration)
        if not (isinstance(folded.op, ast.Add | ast.Sub) and isinstance(folded.left, temporal)
                and isinstance(folded.right, temporal)):
            return folded
        try:
            left, right = literal_value(folded.left), literal_value(folded.right)
        except ValueError:
            return folded  # the type check reports the invalid literal
        return _literal(temporal_arithmetic(isinstance(folded.op, ast.Add), left, right))


def _literal(value: Any) -> Literal:
    if value is None:
        return ast.Null()  # out of range, or a date moved by part of a day
    if isinstance(value, datetime):
        return ast.DateTime(_datetime_text(value))
    if isinstance(value, date):
        return ast.Date(value.isoformat())
    return ast.Duration(duration_text(value))


def _datetime_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def duration_text(delta: timedelta) -> str:
    """``timedelta`` as an ``Edm.Duration`` (``-P1DT2H3M4.5S``)."""
    sign = "-" if delta < timedelta(0) else ""
    delta = abs(delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = f".{delta.microseconds:06d}".rstrip("0") if delta.microseconds else ""
    return f"{sign}P{delta.days}DT{hours}H{minutes}M{seconds}{fraction}S"
