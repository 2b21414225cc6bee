"""OData identifiers as regular-expression text, by Unicode category (ABNF ``odataIdentifier``).

An identifier starts with a letter (L), a letter number (Nl) or ``_`` and goes on with letters,
letter numbers, decimal digits (Nd), combining marks (Mn, Mc), connector punctuation (Pc) or
format characters (Cf), up to 128 in all. Python's ``re`` has no ``\\p{..}`` classes and its
``\\w`` leaves out marks, ``＿`` and format characters, so the classes are built here once from
``unicodedata`` (one pass over the assigned planes at import).
"""

from __future__ import annotations

import re
import unicodedata
from itertools import chain

MAX_LENGTH = 128
START_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl"})
PART_CATEGORIES = START_CATEGORIES | {"Nd", "Mn", "Mc", "Pc", "Cf"}


def _classes() -> tuple[str, str]:
    """The character classes ``[...]`` of a first and of a following identifier character."""
    start: list[tuple[int, int]] = []
    part: list[tuple[int, int]] = []
    category = unicodedata.category
    # Planes 4 to 13 are unassigned and 15, 16 private use: only planes 0 to 3 and the tags of
    # plane 14 (Cf) hold identifier characters.
    for code in chain(range(0x40000), range(0xE0000, 0xE1000)):
        kind = category(chr(code))
        if kind in PART_CATEGORIES:
            _extend(part, code)
            if kind in START_CATEGORIES:
                _extend(start, code)
    return _class(start, "_"), _class(part, "")


def _extend(ranges: list[tuple[int, int]], code: int) -> None:
    if ranges and ranges[-1][1] + 1 == code:
        ranges[-1] = (ranges[-1][0], code)
    else:
        ranges.append((code, code))


def _class(ranges: list[tuple[int, int]], extra: str) -> str:
    def char(code: int) -> str:
        return re.escape(chr(code))

    body = "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges)
    return f"[{extra}{body}]"


START, PART = _classes()
IDENTIFIER = f"{START}{PART}{{0,{MAX_LENGTH - 1}}}"
QUALIFIED = f"{IDENTIFIER}(?:\\.{IDENTIFIER})*"
