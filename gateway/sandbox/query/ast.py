"""The syntax tree of a Kintone query (what ``parse_query`` returns)."""

from __future__ import annotations

from dataclasses import dataclass

COMPARISONS = ("=", "!=", ">", "<", ">=", "<=")


@dataclass(frozen=True)
class Str:
    """A double-quoted literal, escapes resolved."""

    value: str


@dataclass(frozen=True)
class Num:
    """An unquoted number, kept as written (``-7``, ``20.5``)."""

    text: str


@dataclass(frozen=True)
class Call:
    """A function such as ``FROM_TODAY(-7, DAYS)``; arguments are the bare words/integers."""

    name: str
    args: tuple[str, ...] = ()


Value = Str | Num | Call


@dataclass(frozen=True)
class Predicate:
    """``field op values``: one value for comparisons and ``like``, a list for ``in``, none for
    ``is [not] empty``. ``op`` is spelled canonically (lower case, single spaces: ``not in``), as
    GAIA_IQ03 messages quote it."""

    field: str
    op: str
    values: tuple[Value, ...] = ()


@dataclass(frozen=True)
class And:
    terms: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    terms: tuple[Condition, ...]


Condition = Predicate | And | Or


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    where: Condition | None = None
    order_by: tuple[SortKey, ...] = ()
    limit: int | None = None
    offset: int | None = None
