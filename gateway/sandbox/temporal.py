"""Kintone's date, time and date-time text, parsed in one place for written values and for query
literals; each caller adds its own rule (writes allow blanks around a value and partial dates,
a query's date-time literal has two-digit parts and a time)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:T([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)


def parse_date(text: str, *, partial: bool = False) -> date | None:
    """``YYYY-MM-DD`` (month and day may have one digit); with ``partial``, ``YYYY`` and
    ``YYYY-MM`` too, completed with ones (``2015-7`` is 2015-07-01)."""
    match = _DATE.fullmatch(text)
    if not match or (not partial and match[3] is None):
        return None
    try:
        return date(*(int(part or 1) for part in match.groups()))
    except ValueError:
        return None


def parse_time(text: str) -> str | None:
    """``HH:MM``, seconds accepted and dropped -> zero-padded ``HH:MM``."""
    match = _TIME.fullmatch(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return f"{int(match[1]):02d}:{match[2]}"


def parse_datetime(text: str) -> datetime | None:
    """An aware UTC datetime (fractions of a second dropped); no offset means UTC, a date alone
    midnight UTC."""
    match = _DATETIME.fullmatch(text)
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0), tzinfo=_zone(zone))
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # no such day, or beyond year 9999 (or 1) in UTC
        return None


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-offset if text[0] == "-" else offset)  # ValueError from a day or more
