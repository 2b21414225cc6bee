"""One predicate's positive test as a condition over the index (see ``sql``).

Negative operators are compiled by the caller as the negation of their positive counterpart, so
this module only knows ``= > < >= <= in like`` and ``is empty``.

Value semantics (reference 13.7) and the decisions taken where real Kintone is unconfirmed:

* text ``=``/``in`` compare exactly (case-sensitive); ``f = ""`` finds empty values;
* choice/entity fields: ``in ("")`` matches "nothing selected"; on multi-value fields ``in`` is
  "some selected value is listed";
* numbers compare numerically; an empty number passes no comparison but ``= ""``;
* dates, times and date-times are ranges of their stored strings: a date literal is one day, a
  time literal one minute, a date-time literal one UTC minute (seconds ignored, offsets converted,
  no offset = UTC), a date-only literal on a date-time field is that whole day in the caller's
  time zone, and date functions give the day ranges of ``dates``. ``=`` is "inside", ``>`` "after
  the end", ``>=`` "on/after the start", ``<`` "before the start", ``<=`` "on/before the end";
  empty values pass none of these but ``= ""`` (``!=`` therefore matches empty values);
* ``is empty`` counts whitespace-only text (spaces, tabs, CR/LF, U+3000) as empty;
* ``like`` needs every token of the term in the field's text (all file names of a FILE field
  count as one text; in a subtable, within one row); a term without tokens (``""``, ``"-"``)
  matches everything, so ``not like ""`` matches nothing;
* a malformed literal for the field's type (``price > "abc"``, ``due = "May 1st"``) and a function
  on a field type that does not accept it are query syntax errors (CB_VA01).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from ..clock import iso_minute
from ..errors import KintoneError
from ..fields import FieldDef
from ..temporal import parse_date, parse_time
from ..text_search import tokenize
from . import dates
from .ast import Call, Num, Str, Value
from .lexer import WHITESPACE, syntax_error
from .sql import Cond, Frag, Has, Not, OnRecord, Words, any_of, placeholders
from .values import datetime_literal, next_minute, parse_number


@dataclass(frozen=True)
class Target:
    """A field a query refers to; ``table`` is its subtable, ``domain`` how it compares."""

    code: str
    type: str
    fd: FieldDef | None
    table: str | None
    domain: str


@dataclass(frozen=True)
class Env:
    """What values depend on: the caller and the clock (read once per query)."""

    lang: str
    now: datetime
    tz: tzinfo
    login: str | None
    organization: str | None

    def error(self) -> KintoneError:
        return syntax_error(self.lang)


@dataclass(frozen=True)
class Bounds:
    """Stored strings ``lo <= s < hi``."""

    lo: str
    hi: str


def build(target: Target, op: str, values: tuple[Value, ...], env: Env) -> Cond:
    if op == "like":
        term = values[0]
        assert isinstance(term, Str)
        return Words(target.code, tuple(dict.fromkeys(tokenize(term.value))))
    if op == "is empty":
        if target.domain == "multi":
            return Not(Has(target.code))
        return Has(target.code, Frag("trim({v}.s, ?) = ''", (WHITESPACE,)))
    # MULTI_LINE_TEXT and RICH_TEXT ("longtext") allow only like and is empty, handled above.
    return _BUILDERS[target.domain](target, op, values, env)


# -- text and choices ------------------------------------------------------------------------------


def _text(value: Value, env: Env) -> str | None:
    """A literal as text; a function that has no value for this caller gives None (no match)."""
    if not isinstance(value, Call):
        return literal(value)
    if value.args:
        raise KintoneError("GAIA_IL08")
    return env.login if value.name == "LOGINUSER" else env.organization


def _text_cond(target: Target, op: str, values: tuple[Value, ...], env: Env) -> Cond:
    texts = tuple(_text(v, env) for v in values)
    if op == "in":
        return Has(target.code, Frag(f"{{v}}.s IN ({placeholders(len(texts))})", texts))
    return Has(target.code, Frag("{v}.s = ?", texts))


def _multi_cond(target: Target, op: str, values: tuple[Value, ...], env: Env) -> Cond:
    texts = [_text(v, env) for v in values]
    listed = tuple(t for t in texts if t != "")
    parts: list[Cond] = []
    if listed:
        parts.append(Has(target.code, Frag(f"{{v}}.s IN ({placeholders(len(listed))})", listed)))
    if "" in texts:
        parts.append(Not(Has(target.code)))
    return any_of(parts)


# -- numbers -------------------------------------------------------------------------------------


def literal(value: Value) -> str | None:
    """The text of a string or number literal (None for functions)."""
    if isinstance(value, Str):
        return value.value
    return value.text if isinstance(value, Num) else None


def _number(value: Value, env: Env) -> float | None:
    """The number of a literal; None for ``""`` (the empty value)."""
    text = literal(value)
    if text == "":
        return None
    number = parse_number(text) if text is not None else None
    if number is None or number != number or abs(number) == float("inf"):
        raise env.error()
    return number


def _number_cond(target: Target, op: str, values: tuple[Value, ...], env: Env) -> Cond:
    numbers = [_number(v, env) for v in values]
    given = tuple(n for n in numbers if n is not None)
    tests: list[Frag] = []
    if given:
        sql_op = "IN" if op == "in" else op
        tests.append(Frag(f"{{v}}.n {sql_op} ({placeholders(len(given))})", given))
    if None in numbers:
        if op not in ("=", "in"):
            raise env.error()
        tests.append(Frag("{v}.s = ''"))
    return Has(target.code, tests[0] if len(tests) == 1 else _or(tests))


def _id_cond(target: Target, op: str, values: tuple[Value, ...], env: Env) -> Cond:
    numbers = [_number(v, env) for v in values]
    if None in numbers:
        raise env.error()
    # A float beyond SQLite's 64 bits stays a float (SQLite compares the two); int() of it fails.
    ids = tuple(int(n) if n is not None and n.is_integer() and abs(n) < 2**63 else n
                for n in numbers)
    sql_op = "IN" if op == "in" else op
    return OnRecord(Frag(f"r.id {sql_op} ({placeholders(len(ids))})", ids))


def _or(tests: list[Frag]) -> Frag:
    return Frag(" OR ".join(f"({t.sql})" for t in tests), tuple(p for t in tests for p in t.params))


# -- dates and times -----------------------------------------------------------------------------


def _day_bounds(days: dates.Days, domain: str, tz: tzinfo) -> Bounds:
    after = days.last + timedelta(days=1)
    if domain == "date":
        return Bounds(days.first.isoformat(), after.isoformat())
    return Bounds(_midnight(days.first, tz), _midnight(after, tz))


def _midnight(day: date, tz: tzinfo) -> str:
    return iso_minute(datetime.combine(day, time(), tzinfo=tz))


def _minute_bounds(moment: datetime) -> Bounds:
    return Bounds(iso_minute(moment), iso_minute(moment + timedelta(minutes=1)))


def _bounds(domain: str, value: Value, env: Env) -> Bounds | None:
    """The range a literal or function denotes on a field of ``domain``; None for ``""``."""
    if isinstance(value, Call):
        period = dates.evaluate(value, env.now, env.tz)
        if isinstance(period, dates.Minute):
            return _minute_bounds(period.at)
        return _day_bounds(period, domain, env.tz)
    text = literal(value)
    if text == "":
        return None
    if domain == "time":
        hhmm = parse_time(text)
        if hhmm is None:
            raise env.error()
        return Bounds(hhmm, next_minute(hhmm))
    if domain == "datetime" and (moment := datetime_literal(text)) is not None:
        return _minute_bounds(moment)
    day = parse_date(text)
    if day is None:
        raise env.error()
    return _day_bounds(dates.Days(day, day), domain, env.tz)


_RANGE_TESTS = {
    "=": lambda b: Frag("{v}.s >= ? AND {v}.s < ?", (b.lo, b.hi)),
    ">": lambda b: Frag("{v}.s >= ?", (b.hi,)),
    ">=": lambda b: Frag("{v}.s >= ?", (b.lo,)),
    "<": lambda b: Frag("{v}.s < ? AND {v}.s <> ''", (b.lo,)),
    "<=": lambda b: Frag("{v}.s < ? AND {v}.s <> ''", (b.hi,)),
}


def _temporal_test(domain: str, op: str, value: Value, env: Env) -> Frag:
    try:
        bounds = _bounds(domain, value, env)
    except (OverflowError, ValueError):  # beyond year 9999 (or a neighbour of such a day)
        raise env.error() from None
    if bounds is None:
        if op != "=":
            raise env.error()
        return Frag("{v}.s = ''")
    return _RANGE_TESTS[op](bounds)


def _temporal_cond(target: Target, op: str, values: tuple[Value, ...], env: Env) -> Cond:
    """Comparisons; ``in`` (only CALC fields of a date format allow it) is "= one of them"."""
    single_op = "=" if op == "in" else op
    tests = [_temporal_test(target.domain, single_op, v, env) for v in values]
    return Has(target.code, tests[0] if len(tests) == 1 else _or(tests))


_BUILDERS = {
    "id": _id_cond,
    "number": _number_cond,
    "text": _text_cond,
    "multi": _multi_cond,
    "date": _temporal_cond,
    "time": _temporal_cond,
    "datetime": _temporal_cond,
}
