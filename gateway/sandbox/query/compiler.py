"""Kintone query -> SQL over ``records r`` and the index tables.

The caller runs ``SELECT ... FROM records r WHERE r.app = ? AND (<where>) ORDER BY <order_by>
LIMIT ? OFFSET ?`` with ``[app, *params, *order_params, limit, offset]``.

Checks run in this order for each predicate: unknown field (GAIA_IQ11; dotted references GAIA_IR02,
related-records fields are not supported and give GAIA_IQ11), value not an option (GAIA_IQ10),
``=``/``!=`` on a subtable field (GAIA_IQ07), operator not allowed (GAIA_IQ03), then function
arguments and literal formats.

Subtables (reference 13.8): a positive predicate on an inner field matches when some row matches;
a negative one (``not in``, ``not like``, ``is not empty``) when the table has rows and none fails
it. Positive predicates on fields of one subtable that are joined by ``and`` must hold in one row.
Negative ones keep their all-rows meaning inside such a group: every row satisfies them, so the row
that satisfies the positive ones does too.

``and`` groups are listed most selective first (see ``_share``), as the renderer drives the query
from the first part it can look up in an index, and positive predicates on one top-level scalar
field are merged into one test: ``amount >= 1 and amount < 9`` reads one index range
(``n >= ? AND n < ?``) instead of two subqueries of half the table each. A scalar field has exactly
one value row per record, so "some row passes A and some row passes B" is "its row passes both";
on a multi-value field it is not ("some value >= 1 and some value < 9"), so those stay apart.

Sorting: allowed on the types of ``rules.SORTABLE`` (others, multi-value and subtable fields give
GAIA_IQ03 with the operator "order by"); empty values sort as the smallest; text sorts by code
point; equal keys are ordered by ``$id`` descending (Kintone leaves this unspecified).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import KintoneError, invalid
from ..fields import FEATURE_TYPES, OPTION_TYPES, Form
from .ast import And, Call, Condition, Or, Predicate, Query, SortKey
from .lexer import syntax_error
from .parser import parse_query
from .predicates import Env, Target, build, literal
from .rules import FUNCTION_TYPES, ID_TYPE, OPERATORS, POSITIVE, SORTABLE, domain
from .sql import (
    AllOf,
    Cond,
    Frag,
    Has,
    Not,
    Renderer,
    SameRow,
    all_of,
    all_tests,
    any_of,
    join,
    negate,
)

MAX_LIMIT = 500
MAX_OFFSET = 10_000

# A guess at the share of records a positive predicate passes, made without data like SQLite's
# own guesses without statistics: one comparison passes a quarter, listed values of a choice field
# their share of its options, those of any other field a hundredth each, a word search a tenth, and
# ``is empty`` everything (no index range serves it). ``and`` groups list their parts by it.
_COMPARISON, _PER_VALUE, _WORD_SEARCH = 0.25, 0.01, 0.1


@dataclass(frozen=True)
class CompiledQuery:
    """``where``: SQL boolean over ``r`` ("1" without a condition); ``order_by``: ORDER BY
    contents, always ending in an ``r.id`` key; ``limit``/``offset``: None when not given."""

    where: str
    params: list
    order_by: str
    order_params: list
    limit: int | None
    offset: int | None


@dataclass(frozen=True)
class _Compiled:
    """A predicate's positive test, whether the operator negates it, its subtable, whether its
    field is a top-level scalar (one value row per record, see ``index``) and ``_share`` (1 when it
    cannot drive). Other terms of an ``and`` group are wrapped as they are."""

    cond: Cond
    negated: bool = False
    table: str | None = None
    scalar: bool = False
    share: float = 1.0

    def alone(self) -> Cond:
        if self.table is None:
            return negate(self.cond) if self.negated else self.cond
        rows = SameRow(self.table, (self.cond,))
        return AllOf((Has(self.table), Not(rows))) if self.negated else rows

    def merge_key(self) -> tuple[str, str] | None:
        """Predicates of one ``and`` group with the same key become one condition."""
        if self.negated:
            return None
        if self.table is not None:
            return ("row", self.table)
        if self.scalar and isinstance(self.cond, Has):
            return ("value", self.cond.code)
        return None


def _share(target: Target, op: str, count: int) -> float:
    """The guessed share of records passing the positive ``op`` with ``count`` values."""
    if op == "like":
        return _WORD_SEARCH
    if op == "is empty":
        return 1.0
    if op not in ("=", "in"):
        return _COMPARISON
    options = target.fd.options if target.fd and target.type in OPTION_TYPES else None
    return min(1.0, count / len(options) if options else count * _PER_VALUE)


def _merge(group: list[_Compiled]) -> tuple[float, Cond]:
    """The share and condition of the predicates of one merge key (or of one other term)."""
    first = group[0]
    if len(group) == 1:
        return first.share, first.alone()
    share = math.prod(compiled.share for compiled in group)
    if first.table is not None:
        return share, SameRow(first.table, tuple(compiled.cond for compiled in group))
    # A value key groups positive value tests of one scalar field (see merge_key).
    values = [compiled.cond for compiled in group if isinstance(compiled.cond, Has)]
    return share, Has(values[0].code, all_tests([value.test for value in values]))


class _Compiler:
    def __init__(self, form: Form, env: Env, app: int) -> None:
        self.form = form
        self.env = env
        self.app = app

    def target(self, code: str) -> Target:
        if code == "$id":
            return Target(code, ID_TYPE, None, None, "id")
        if "." in code:
            head = code.split(".", 1)[0]
            fd = self.form.get(head)
            if fd is not None and fd.type == "REFERENCE_TABLE":
                raise KintoneError("GAIA_IQ11", (code,))
            raise KintoneError("GAIA_IR02", (head,))
        fd = self.form.get(code)
        if fd is None or (fd.type in FEATURE_TYPES and not fd.props.get("enabled")):
            raise KintoneError("GAIA_IQ11", (code,))
        return Target(code, fd.type, fd, fd.table, domain(fd.type, fd))

    # -- conditions ------------------------------------------------------------------------------

    def condition(self, node: Condition) -> Cond:
        if isinstance(node, Predicate):
            return self.predicate(node).alone()
        if isinstance(node, Or):
            return any_of([self.condition(term) for term in node.terms])
        return self.and_group(node)

    def and_group(self, node: And) -> Cond:
        """``and`` terms, merged by ``_Compiled.merge_key`` and listed most selective first."""
        groups: dict[tuple[str, str] | int, list[_Compiled]] = {}
        for i, term in enumerate(node.terms):
            if isinstance(term, Predicate):
                compiled = self.predicate(term)
            else:
                compiled = _Compiled(self.condition(term))
            groups.setdefault(compiled.merge_key() or i, []).append(compiled)
        parts = sorted((_merge(group) for group in groups.values()), key=lambda part: part[0])
        return all_of([cond for _, cond in parts])

    def predicate(self, node: Predicate) -> _Compiled:
        target = self.target(node.field)
        self.check(target, node)
        op = POSITIVE.get(node.op, node.op)
        negated = op != node.op
        return _Compiled(
            build(target, op, node.values, self.env),
            negated,
            target.table,
            scalar=target.table is None and target.domain != "multi",
            share=1.0 if negated else _share(target, op, len(node.values)),
        )

    def check(self, target: Target, node: Predicate) -> None:
        if target.type in OPTION_TYPES and target.fd is not None:
            options = target.fd.options
            for value in node.values:
                text = literal(value)
                if text and text not in options:
                    raise KintoneError("GAIA_IQ10", (text, target.code))
        if target.table is not None and node.op in ("=", "!="):
            raise KintoneError("GAIA_IQ07", (target.code,))
        if node.op not in OPERATORS.get(target.type, ()):
            raise KintoneError("GAIA_IQ03", (target.code, node.op))
        for value in node.values:
            if isinstance(value, Call) and target.type not in FUNCTION_TYPES[value.name]:
                raise self.env.error()

    # -- order by --------------------------------------------------------------------------------

    def order(self, keys: tuple[SortKey, ...]) -> Frag:
        parts: list[Frag] = []
        for key in keys:
            target = self.target(key.field)
            if target.table is not None or target.type not in SORTABLE:
                raise KintoneError("GAIA_IQ03", (target.code, "order by"))
            direction = "DESC" if key.descending else "ASC"
            if target.domain == "id":
                parts.append(Frag(f"r.id {direction}"))
                break  # ids are unique: later keys cannot matter
            column = "n" if target.domain == "number" else "s"
            parts.append(Frag(
                f"(SELECT o.{column} FROM record_values o WHERE o.app = ? AND o.rec = r.id "
                f"AND o.code = ? AND o.row = 0) {direction}",
                (self.app, target.code),
            ))
        else:
            parts.append(Frag("r.id DESC"))
        return join(", ", parts)


def _check_paging(query: Query, allow_paging: bool, lang: str) -> None:
    if not allow_paging and (query.limit is not None or query.offset is not None):
        raise syntax_error(lang)
    if (query.limit or 0) < 0 or (query.offset or 0) < 0:
        raise invalid("query", "min_zero")
    if (query.limit or 0) > MAX_LIMIT:
        raise KintoneError("GAIA_QU01")
    if (query.offset or 0) > MAX_OFFSET:
        raise KintoneError("GAIA_QU02")


def _env(ctx: Any, lang: str) -> Env:
    caller = ctx.caller
    return Env(lang, ctx.now(), ctx.tz, caller.login, caller.primary_organization)


def compile_query(
    text: str, form: Form, ctx: Any, *, app: int, allow_paging: bool = True
) -> CompiledQuery:
    """Compile a Kintone query for ``app``; raises ``KintoneError`` like real Kintone would.

    ``allow_paging=False`` is for cursor queries, where ``limit``/``offset`` are an error (CB_VA01
    on ``query``).
    """
    lang = getattr(ctx, "lang", "en")
    query = parse_query(text, lang=lang)
    _check_paging(query, allow_paging, lang)
    compiler = _Compiler(form, _env(ctx, lang), app)
    renderer = Renderer(app)
    where = renderer.record(compiler.condition(query.where)) if query.where else Frag("1")
    order = compiler.order(query.order_by)
    return CompiledQuery(
        where=where.sql,
        params=list(where.params),
        order_by=order.sql,
        order_params=list(order.params),
        limit=query.limit,
        offset=query.offset,
    )
