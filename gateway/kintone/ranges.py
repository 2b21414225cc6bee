"""The dates Kintone can compare and keep. A date is compared as its whole day in the calling
user's time zone, so the day before and the day after must exist too: 0001-01-01 and
9999-12-31 (and date-times on them, in UTC) are out of range. Callers refuse such values with
a 400 before any Kintone call instead of letting Kintone (or the sandbox) fail on them."""

from __future__ import annotations

from datetime import UTC, date, datetime

FIRST_DAY = date(1, 1, 2)
LAST_DAY = date(9999, 12, 30)
RANGE = f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"


def day_in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def utc_in_range(moment: datetime) -> datetime | None:
    """The moment in UTC; None when it (or its UTC form) is out of range."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return None
    return utc if day_in_range(utc.date()) else None
