"""The condition algebra: Kintone conditions with their exactness, ``and``/``or`` over them,
and De Morgan on the filter tree."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from odata_query import ast

# The condition of a filter that no record can satisfy (record ids start at 1).
MATCHES_NOTHING = "$id < 0"


def _conjuncts(node: ast._Node) -> Iterator[ast._Node]:
    """The top-level ``and`` terms (after De Morgan), so exact ones leave the residual."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    elif _is_not(node) and isinstance(node.operand, ast.BoolOp) and isinstance(
        node.operand.op, ast.Or
    ):
        yield from _conjuncts(ast.UnaryOp(ast.Not(), node.operand.left))
        yield from _conjuncts(ast.UnaryOp(ast.Not(), node.operand.right))
    elif _is_not(node) and _is_not(node.operand):
        yield from _conjuncts(node.operand.operand)
    else:
        yield node


def _is_not(node: ast._Node) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)


# -- pushed conditions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cond:
    """A Kintone condition: ``all`` (no condition), ``none`` (constant false), an atom or a
    flat ``and``/``or`` of parts. ``exact``: it selects exactly what the OData part selects.
    ``tables``: subtables whose rows it constrains through an ``any`` lambda."""

    kind: Literal["all", "none", "atom", "and", "or"]
    text: str = ""
    parts: tuple[_Cond, ...] = ()
    exact: bool = True
    tables: frozenset[str] = frozenset()

    def render(self) -> str:
        if self.kind == "atom":
            return self.text
        if self.kind in ("and", "or"):
            return f" {self.kind} ".join(f"({part.render()})" for part in self.parts)
        return MATCHES_NOTHING if self.kind == "none" else ""


TRUE = _Cond("all")
NOTHING = _Cond("all", exact=False)  # nothing pushed: the residual decides
FALSE = _Cond("none")


def _loose(cond: _Cond) -> _Cond:
    """``cond`` as a mere superset (constants stay exact: they do not depend on the record)."""
    return cond if cond.kind in ("all", "none") else replace(cond, exact=False)


def _and(a: _Cond, b: _Cond) -> _Cond:
    if "none" in (a.kind, b.kind):
        return FALSE
    if a.kind == "all" or b.kind == "all":
        kept = b if a.kind == "all" else a
        return replace(kept, exact=a.exact and b.exact)
    if a.tables & b.tables:
        return replace(a, exact=False)
    return _Cond("and", parts=_flat("and", a, b), exact=a.exact and b.exact,
                 tables=a.tables | b.tables)


def _or(a: _Cond, b: _Cond) -> _Cond:
    if a.kind == "none" or b.kind == "none":
        return b if a.kind == "none" else a
    if a.kind == "all" or b.kind == "all":
        always = (a.kind == "all" and a.exact) or (b.kind == "all" and b.exact)
        return TRUE if always or (a.exact and b.exact) else NOTHING
    return _Cond("or", parts=_flat("or", a, b), exact=a.exact and b.exact,
                 tables=a.tables | b.tables)


def _flat(kind: str, a: _Cond, b: _Cond) -> tuple[_Cond, ...]:
    return (a.parts if a.kind == kind else (a,)) + (b.parts if b.kind == kind else (b,))


def _any_of(conds: Sequence[_Cond]) -> _Cond:
    result = FALSE
    for cond in conds:
        result = _or(result, cond)
    return result


def _all_of(conds: Sequence[_Cond]) -> _Cond:
    result = TRUE
    for cond in conds:
        result = _and(result, cond)
    return result
