"""Safe pieces of Kintone queries: string literals, field references and ``order by``.

Every module that builds a Kintone query from user input goes through these helpers, so no
value can end a literal early or smuggle in a clause.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_NEEDS_ESCAPE = re.compile(r'[\\"\t\n\r]')
# Other control characters have no escape in Kintone's query language.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A field code as Kintone's lexer reads it: a run up to whitespace or punctuation.
_FIELD_CODE = re.compile(r'[^ \t\r\n\u3000()",=!<>\\\']+')
DIRECTIONS = ("asc", "desc")


def quote(value: str) -> str:
    """``value`` as a double-quoted Kintone string literal."""
    bad = _FORBIDDEN.search(value)
    if bad:
        raise ValueError(f"control character U+{ord(bad.group()):04X} cannot be used in a "
                         "Kintone query")
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], value) + '"'


def field(code: str) -> str:
    """A field code checked to be one word of the query (Kintone has no quoting for codes)."""
    if not _FIELD_CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a valid Kintone field code")
    return code


def order_by(keys: Iterable[tuple[str, str]]) -> str:
    """``order by a asc, b desc`` for ``[("a", "asc"), ("b", "desc")]``; ``""`` for none."""
    parts = []
    for code, direction in keys:
        if direction.lower() not in DIRECTIONS:
            raise ValueError(f"{direction!r} is not a sort direction (asc or desc)")
        parts.append(f"{field(code)} {direction.lower()}")
    return f"order by {', '.join(parts)}" if parts else ""


def where(condition: str, *more: str) -> str:
    """Conditions joined with ``and``, each parenthesised so an ``or`` inside stays inside."""
    parts = [c.strip() for c in (condition, *more) if c and c.strip()]
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({p})" for p in parts)
