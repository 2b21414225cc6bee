"""Integers read from a URL: ASCII digits within Edm.Int64, nothing else.

``str.isdigit`` and ``\\d`` accept any Unicode digit (``²``, ``٣``), which ``int`` then reads or
refuses with a ValueError; and an unbounded integer reaches Kintone or ``islice``, which refuse it
with an error of their own. Every numeric option, header and key goes through here instead.
"""

from __future__ import annotations

import re
from decimal import Decimal

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Every integer key (record, row, app, comment) is a Kintone id, and Kintone counts them from 1:
# a smaller one names nothing, and Kintone would refuse it with an error of its own.
FIRST_ID = 1
# 19 significant digits hold every Int64; the bound keeps int() off a 5,000-digit string.
_INTEGER = re.compile(r"([-+]?)0*([0-9]{1,19})", re.ASCII)


def int64(text: str) -> int | None:
    """The Edm.Int64 ``text`` spells (an optional sign and ASCII digits), else None."""
    match = _INTEGER.fullmatch(text)
    if match is None:
        return None
    value = int(match.group(1) + match.group(2))
    return value if INT64_MIN <= value <= INT64_MAX else None


def non_negative_int64(text: str) -> int | None:
    """An unsigned count (``$top``, ``$skip``, a page size): ASCII digits within Int64."""
    return int64(text) if text[:1].isascii() and text[:1].isdigit() else None


def json_int64(value: object) -> int | None:
    """An id in a JSON body: a number without a fraction (``2`` or ``2.0``, which JSON Schema
    calls an integer too) or a string of ASCII digits (Kintone's own form), within Int64."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if INT64_MIN <= value <= INT64_MAX else None
    if isinstance(value, float):  # NaN and Infinity: JSON bodies read fractions as Decimal
        value = Decimal(value)
    if isinstance(value, Decimal):
        return json_int64(int(value)) if value.is_finite() and value == int(value) else None
    return int64(value) if isinstance(value, str) else None
