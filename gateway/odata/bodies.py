"""Request bodies as JSON, bounded in depth: a hostile body nested 100,000 deep gets a clear
400, never a RecursionError (Python's parser gives up near 1,000 levels, and anything walking
a value recursively afterwards would too). Strings must be Unicode text: JSON's ``\ud800``
escapes allow a lone surrogate, which no UTF-8 text (nor Kintone) can hold."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

MAX_DEPTH = 64  # arrays and objects inside one another; real bodies need fewer than ten


class BodyError(ValueError):
    """Not JSON, nested deeper than ``MAX_DEPTH`` or with a lone surrogate; the message says
    which."""


def load(data: bytes | str) -> Any:
    """The JSON value; numbers with a fraction as ``Decimal``, so no digit is lost."""
    try:
        value = json.loads(data, parse_float=Decimal)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise BodyError("The body is not valid JSON.") from None
    _check(value)
    return value


def _too_deep() -> BodyError:
    return BodyError(f"The JSON body is nested more than {MAX_DEPTH} levels deep.")


def _check(value: Any) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep()
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        raise BodyError(f"The body holds a lone surrogate (\\u{code:04x}), which is not "
                        "text.") from None
