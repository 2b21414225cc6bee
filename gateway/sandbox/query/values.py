"""Parsing of query literals: numbers, dates, times and date-times."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)


def parse_number(text: str) -> float | None:
    text = text.strip()
    return float(text) if _NUMBER.fullmatch(text) else None


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` (month and day may have one digit, as on writes)."""
    match = _DATE.fullmatch(text)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def parse_time(text: str) -> str | None:
    """``HH:MM`` (seconds accepted and dropped) -> zero-padded ``HH:MM``."""
    match = _TIME.fullmatch(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return f"{int(match[1]):02d}:{match[2]}"


def parse_datetime(text: str) -> datetime | None:
    """An ISO date-time -> its UTC minute; without an offset the value is UTC (as on writes)."""
    if not _DATETIME.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).replace(second=0, microsecond=0)
    except OverflowError:  # beyond year 9999 (or before year 1) in UTC
        return None


def next_minute(hhmm: str) -> str:
    """The minute after ``HH:MM``; after 23:59 comes "24:00", which still sorts last."""
    minutes = int(hhmm[:2]) * 60 + int(hhmm[3:]) + 1
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def iso_minute(moment: datetime) -> str:
    """The stored form of a DATETIME value (UTC, seconds always 00)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00Z")
