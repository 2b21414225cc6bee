"""Conditions over the index tables and their rendering to SQL.

A compiled predicate is a small tree of conditions. Its leaves say "some value row of field X
satisfies this test" (``Has``), "field X contains all these words in one row" (``Words``) or give
SQL on the record itself (``OnRecord``, for ``$id``). ``SameRow`` asks for one subtable row in
which all its parts hold. The renderer turns a tree into SQL at record level (``r`` = the record)
or at row level (one subtable row, given by rec/row expressions).

Record-level leaves render as ``r.id IN (SELECT rec FROM record_values WHERE app = ? AND
code = ? AND <test>)`` so SQLite drives selective queries from the ``(app, code, s|n)`` indexes
instead of scanning every record. SQLite materialises such a subquery in full, fetching ``rec``
from the table for every index entry, so in an ``and`` group only the first leaf that can drive
does (the compiler lists the most selective first); the others are checked on each candidate
record by an ``EXISTS`` over the record's own index rows, which with ``ORDER BY r.id ... LIMIT``
stops once enough candidates passed. Every literal is a bound parameter.

Correlated lookups name their index (``INDEXED BY``): without statistics SQLite rates a range on
the value index above the record's own rows and would scan that range for every record checked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Frag:
    """SQL text with its parameters, in placeholder order."""

    sql: str
    params: tuple = ()


TRUE = Frag("1")


def join(separator: str, frags: list[Frag]) -> Frag:
    return Frag(separator.join(f.sql for f in frags), tuple(p for f in frags for p in f.params))


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def all_tests(tests: list[Frag]) -> Frag:
    """The value tests (over ``{v}``) joined by AND; each is parenthesised, as it may be an OR."""
    return _balanced(" AND ", [Frag(f"({test.sql})", test.params) for test in tests])


@dataclass(frozen=True)
class Has:
    """Some ``record_values`` row of ``code`` passes ``test`` (SQL over ``{v}.s`` / ``{v}.n``)."""

    code: str
    test: Frag = TRUE


@dataclass(frozen=True)
class Words:
    """One row of ``code`` holds all ``tokens`` (no tokens: always true)."""

    code: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class OnRecord:
    """SQL over the record alias ``r`` (only at record level)."""

    frag: Frag


@dataclass(frozen=True)
class Not:
    item: Cond


@dataclass(frozen=True)
class AllOf:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class SameRow:
    """Some row of subtable ``table`` satisfies every item (items are row-level conditions)."""

    table: str
    items: tuple[Cond, ...]


Cond = Has | Words | OnRecord | Not | AllOf | AnyOf | SameRow


def negate(cond: Cond) -> Cond:
    return cond.item if isinstance(cond, Not) else Not(cond)


def any_of(items: list[Cond]) -> Cond:
    return items[0] if len(items) == 1 else AnyOf(tuple(items))


def all_of(items: list[Cond]) -> Cond:
    return items[0] if len(items) == 1 else AllOf(tuple(items))


class Renderer:
    """Renders conditions of one app; gives every subquery its own table alias."""

    def __init__(self, app: int) -> None:
        self.app = app
        self._aliases = 0

    def alias(self) -> str:
        self._aliases += 1
        return f"v{self._aliases}"

    def record(self, cond: Cond) -> Frag:
        """``cond`` as a boolean SQL expression on the record ``r``."""
        if isinstance(cond, OnRecord):
            return cond.frag
        if isinstance(cond, SameRow):
            return self._driven(cond.items, cond.table)
        if isinstance(cond, Has | Words):
            return self._driven((cond,), None)
        if isinstance(cond, AllOf):
            return self._conjunction(cond.items)
        return self._combine(cond, self.record)

    def row(self, cond: Cond, rec: str, row: str) -> Frag:
        """``cond`` as a boolean SQL expression on the subtable row (``rec``, ``row``)."""
        if isinstance(cond, Has):
            return self._has_rows(cond, rec, row)
        if isinstance(cond, Words):
            if not cond.tokens:
                return TRUE
            w = self.alias()
            return Frag(
                f"(SELECT count(DISTINCT {w}.token) FROM record_words {w} WHERE {w}.app = ? "
                f"AND {w}.rec = {rec} AND {w}.code = ? AND {w}.row = {row} "
                f"AND {w}.token IN ({placeholders(len(cond.tokens))})) = ?",
                (self.app, cond.code, *cond.tokens, len(cond.tokens)),
            )
        return self._combine(cond, lambda c: self.row(c, rec, row))

    def _has_rows(self, has: Has, rec: str, row: str | None) -> Frag:
        """Some value row of ``has.code`` in record ``rec`` (in row ``row`` if given) passes."""
        v = self.alias()
        test = _bind(has.test, v)
        in_row = "" if row is None else f" AND {v}.row = {row}"
        return Frag(
            f"EXISTS (SELECT 1 FROM record_values {v} INDEXED BY record_values_rec "
            f"WHERE {v}.app = ? AND {v}.rec = {rec} AND {v}.code = ?{in_row} AND {test.sql})",
            (self.app, has.code, *test.params),
        )

    def _conjunction(self, items: tuple[Cond, ...]) -> Frag:
        """All ``items`` hold: the first leaf that can drive gives the candidate records, the
        other leaves are checked per candidate (see the module docstring)."""
        first = next((i for i, item in enumerate(items) if _drives_record(item)), None)
        if first is None:
            return self._combine(AllOf(items), self.record)
        driver = self.record(items[first])
        checks = [self._check(item) for i, item in enumerate(items) if i != first]
        return _balanced(" AND ", [driver, *checks])

    def _check(self, item: Cond) -> Frag:
        """A non-driving item of a conjunction as a test of the candidate record ``r``."""
        if isinstance(item, Not) and isinstance(item.item, Has | Words):
            inner = self._check(item.item)
            return Frag(f"NOT ({inner.sql})", inner.params)
        if isinstance(item, Has):
            return self._has_rows(item, "r.id", None)
        if isinstance(item, Words):
            if not item.tokens:
                return TRUE
            source = _word_source(self.alias(), self.app, item, rec="r.id")
            return Frag(f"EXISTS ({source.sql})", source.params)
        return self.record(item)

    def _combine(self, cond: Cond, render) -> Frag:
        if isinstance(cond, Not):
            inner = render(cond.item)
            return Frag(f"NOT ({inner.sql})", inner.params)
        if isinstance(cond, AllOf | AnyOf):
            separator = " AND " if isinstance(cond, AllOf) else " OR "
            return _balanced(separator, [render(item) for item in cond.items])
        raise TypeError(f"cannot render {cond!r} here")

    def _driven(self, items: tuple[Cond, ...], table: str | None) -> Frag:
        """``r.id IN (<records with one row where all items hold>)``.

        The first value test or word search drives the subquery from its index and the other
        items are checked on the same row; without one, the rows of subtable ``table`` drive.
        """
        driver = next((item for item in items if _drives(item)), None)
        d = self.alias()
        if isinstance(driver, Has):
            test = _bind(driver.test, d)
            source = Frag(
                f"SELECT {d}.rec FROM record_values {d} WHERE {d}.app = ? AND {d}.code = ? "
                f"AND {test.sql}",
                (self.app, driver.code, *test.params),
            )
        elif isinstance(driver, Words):
            source = _word_source(d, self.app, driver)
        elif table is not None:
            source = Frag(
                f"SELECT {d}.rec FROM record_values {d} WHERE {d}.app = ? AND {d}.code = ?",
                (self.app, table),
            )
        else:  # a top-level like term without tokens
            return TRUE
        rest = [self.row(item, f"{d}.rec", f"{d}.row") for item in items if item is not driver]
        # Every source ends in a WHERE or HAVING expression, so row conditions extend it.
        source = join(" AND ", [source, *rest])
        return Frag(f"r.id IN ({source.sql})", source.params)


def _balanced(separator: str, parts: list[Frag]) -> Frag:
    """Joins nested pairwise: SQLite limits expression depth to 1000, and a flat chain of a
    thousand ``or`` terms is a thousand levels deep, a balanced one only ten."""
    if len(parts) > 2:
        middle = len(parts) // 2
        parts = [_balanced(separator, parts[:middle]), _balanced(separator, parts[middle:])]
    joined = join(separator, parts)
    return Frag(f"({joined.sql})", joined.params)


def _drives(item: Cond) -> bool:
    return isinstance(item, Has) or (isinstance(item, Words) and bool(item.tokens))


def _drives_record(item: Cond) -> bool:
    """Whether ``record`` renders ``item`` as ``r.id IN (<index lookup>)``."""
    return _drives(item) or isinstance(item, SameRow)


def _bind(test: Frag, alias: str) -> Frag:
    return Frag(f"({test.sql.replace('{v}', alias)})", test.params)


def _word_source(w: str, app: int, words: Words, rec: str | None = None) -> Frag:
    """Rows (alias ``w``) holding all tokens of ``words``; only those of record ``rec`` if given.

    Without ``rec`` the token index is named: for several tokens SQLite would otherwise read every
    word of the app through the (app, rec) index to save sorting the GROUP BY.
    """
    tokens = words.tokens
    index, of_rec = ("token", "") if rec is None else ("rec", f" AND {w}.rec = {rec}")
    head = (
        f"SELECT {w}.rec FROM record_words {w} INDEXED BY record_words_{index} "
        f"WHERE {w}.app = ?{of_rec} AND {w}.code = ? AND "
    )
    if len(tokens) == 1:
        return Frag(f"{head}{w}.token = ?", (app, words.code, tokens[0]))
    return Frag(
        f"{head}{w}.token IN ({placeholders(len(tokens))}) GROUP BY {w}.rec, {w}.row "
        f"HAVING count(DISTINCT {w}.token) = ?",
        (app, words.code, *tokens, len(tokens)),
    )
