"""Parsing of query literals: numbers and date-times (dates and times: ``..temporal``)."""

from __future__ import annotations

import re
from datetime import datetime

from ..temporal import parse_datetime

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)


def parse_number(text: str) -> float | None:
    text = text.strip()
    return float(text) if _NUMBER.fullmatch(text) else None


def datetime_literal(text: str) -> datetime | None:
    """A date-time literal -> its UTC minute. Stricter than a written value: two-digit parts
    and a time; without an offset the value is UTC (as on writes)."""
    if not _DATETIME.fullmatch(text):
        return None
    moment = parse_datetime(text)
    return moment.replace(second=0) if moment else None


def next_minute(hhmm: str) -> str:
    """The minute after ``HH:MM``; after 23:59 comes "24:00", which still sorts last."""
    minutes = int(hhmm[:2]) * 60 + int(hhmm[3:]) + 1
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
