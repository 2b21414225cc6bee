"""The condition algebra: Kintone conditions with their exactness, ``and``/``or`` over them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

# The condition of a filter that no record can satisfy (record ids start at 1).
MATCHES_NOTHING = "$id < 0"


@dataclass(frozen=True)
class Cond:
    """A Kintone condition: ``all`` (no condition), ``none`` (constant false), an atom or a
    flat ``and``/``or`` of parts. ``exact``: it selects exactly what the OData part selects.
    ``tables``: subtables whose rows it constrains through an ``any`` lambda."""

    kind: Literal["all", "none", "atom", "and", "or"]
    text: str = ""
    parts: tuple[Cond, ...] = ()
    exact: bool = True
    tables: frozenset[str] = frozenset()

    def render(self) -> str:
        if self.kind == "atom":
            return self.text
        if self.kind in ("and", "or"):
            return f" {self.kind} ".join(f"({part.render()})" for part in self.parts)
        return MATCHES_NOTHING if self.kind == "none" else ""


TRUE = Cond("all")
NOTHING = Cond("all", exact=False)  # nothing pushed: the residual decides
FALSE = Cond("none")


def loose(cond: Cond) -> Cond:
    """``cond`` as a mere superset (constants stay exact: they do not depend on the record)."""
    return cond if cond.kind in ("all", "none") else replace(cond, exact=False)


def and_(a: Cond, b: Cond) -> Cond:
    if "none" in (a.kind, b.kind):
        return FALSE
    if a.kind == "all" or b.kind == "all":
        kept = b if a.kind == "all" else a
        return replace(kept, exact=a.exact and b.exact)
    if a.tables & b.tables:
        return replace(a, exact=False)
    return Cond("and", parts=_flat("and", a, b), exact=a.exact and b.exact,
                 tables=a.tables | b.tables)


def or_(a: Cond, b: Cond) -> Cond:
    if a.kind == "none" or b.kind == "none":
        return b if a.kind == "none" else a
    if a.kind == "all" or b.kind == "all":
        always = (a.kind == "all" and a.exact) or (b.kind == "all" and b.exact)
        return TRUE if always or (a.exact and b.exact) else NOTHING
    return Cond("or", parts=_flat("or", a, b), exact=a.exact and b.exact,
                 tables=a.tables | b.tables)


def _flat(kind: str, a: Cond, b: Cond) -> tuple[Cond, ...]:
    return (a.parts if a.kind == kind else (a,)) + (b.parts if b.kind == kind else (b,))


def any_of(conds: Sequence[Cond]) -> Cond:
    result = FALSE
    for cond in conds:
        result = or_(result, cond)
    return result


def all_of(conds: Sequence[Cond]) -> Cond:
    result = TRUE
    for cond in conds:
        result = and_(result, cond)
    return result
