"""Request bodies as JSON, bounded in depth: a hostile body nested 100,000 deep gets a clear
400, never a RecursionError (Python's parser gives up near 1,000 levels, and anything walking
a value recursively afterwards would too)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

MAX_DEPTH = 64  # arrays and objects inside one another; real bodies need fewer than ten


class BodyError(ValueError):
    """Not JSON, or nested deeper than ``MAX_DEPTH``; the message says which."""


def load(data: bytes | str) -> Any:
    """The JSON value; numbers with a fraction as ``Decimal``, so no digit is lost."""
    try:
        value = json.loads(data, parse_float=Decimal)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise BodyError("The body is not valid JSON.") from None
    if _depth(value) > MAX_DEPTH:
        raise _too_deep()
    return value


def _too_deep() -> BodyError:
    return BodyError(f"The JSON body is nested more than {MAX_DEPTH} levels deep.")


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest
