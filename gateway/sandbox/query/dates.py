"""Date functions (``TODAY()``, ``FROM_TODAY(-7, DAYS)``, ``THIS_MONTH(LAST)``, ...).

Every function but ``NOW()`` denotes a range of calendar days in the caller's time zone; ``NOW()``
denotes the current minute. Decisions where real Kintone is unconfirmed:

* weeks run Sunday to Saturday (documented); ``THIS_WEEK(MONDAY)`` is that day of this week;
* ``THIS_MONTH(31)`` in a shorter month is clamped to the month's last day (one observer suspected
  a rollover to the 1st of the next month); ``FROM_TODAY(1, MONTHS)`` on Jan 31 likewise gives the
  last day of February;
* a bad weekday argument is GAIA_IL08 like a wrong argument count; a non-integer ``FROM_TODAY``
  count is GAIA_IL08 too.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from ..errors import KintoneError
from .ast import Call

WEEKDAYS = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")
UNITS = ("DAYS", "WEEKS", "MONTHS", "YEARS")
DATE_FUNCTIONS = frozenset(
    {
        "TODAY", "YESTERDAY", "TOMORROW", "FROM_TODAY", "THIS_WEEK", "LAST_WEEK", "NEXT_WEEK",
        "THIS_MONTH", "LAST_MONTH", "NEXT_MONTH", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR",
    }
)
_INTEGER = re.compile(r"-?[0-9]+")
_SHIFT = {"THIS": 0, "LAST": -1, "NEXT": 1}


@dataclass(frozen=True)
class Days:
    """The calendar days ``first`` to ``last``, both included."""

    first: date
    last: date


@dataclass(frozen=True)
class Minute:
    """One UTC minute (``NOW()`` and DATETIME literals)."""

    at: datetime


def add_months(day: date, months: int) -> date:
    """``day`` shifted by whole months, clamped to the target month's last day."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _arity(call: Call, allowed: range) -> None:
    if len(call.args) not in allowed:
        raise KintoneError("GAIA_IL08")


def _from_today(today: date, args: tuple[str, ...]) -> Days:
    count, unit = args
    if not _INTEGER.fullmatch(count):
        raise KintoneError("GAIA_IL08")
    if unit not in UNITS:
        raise KintoneError("GAIA_IQ25")
    n = int(count)
    if unit in ("DAYS", "WEEKS"):
        day = today + timedelta(days=n * (7 if unit == "WEEKS" else 1))
    else:
        day = add_months(today, n * (12 if unit == "YEARS" else 1))
    return Days(day, day)


def _week(today: date, shift: int, args: tuple[str, ...]) -> Days:
    sunday = today - timedelta(days=(today.weekday() + 1) % 7) + timedelta(weeks=shift)
    if not args:
        return Days(sunday, sunday + timedelta(days=6))
    if args[0] not in WEEKDAYS:
        raise KintoneError("GAIA_IL08")
    day = sunday + timedelta(days=WEEKDAYS.index(args[0]))
    return Days(day, day)


def _month(today: date, shift: int, args: tuple[str, ...]) -> Days:
    first = add_months(today.replace(day=1), shift)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    if not args:
        return Days(first, last)
    arg = args[0]
    if arg == "LAST":
        return Days(last, last)
    if not _INTEGER.fullmatch(arg) or not 1 <= int(arg) <= 31:
        raise KintoneError("GAIA_IQ23", (arg,))
    day = first.replace(day=min(int(arg), last.day))
    return Days(day, day)


def _year(today: date, shift: int) -> Days:
    year = today.year + shift
    return Days(date(year, 1, 1), date(year, 12, 31))


def evaluate(call: Call, now: datetime, tz: tzinfo) -> Days | Minute:
    """The range a date function denotes at ``now`` for a caller in ``tz``."""
    name = call.name
    if name == "NOW":
        _arity(call, range(1))
        return Minute(now.astimezone(UTC).replace(second=0, microsecond=0))
    today = now.astimezone(tz).date()
    if name == "FROM_TODAY":
        _arity(call, range(2, 3))
        return _from_today(today, call.args)
    prefix, _, period = name.partition("_")
    if period in ("WEEK", "MONTH"):
        _arity(call, range(2))
        if period == "WEEK":
            return _week(today, _SHIFT[prefix], call.args)
        return _month(today, _SHIFT[prefix], call.args)
    _arity(call, range(1))
    if period == "YEAR":
        return _year(today, _SHIFT[prefix])
    day = today + timedelta(days={"TODAY": 0, "YESTERDAY": -1, "TOMORROW": 1}[name])
    return Days(day, day)
