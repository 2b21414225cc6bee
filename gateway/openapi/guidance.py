"""Microsoft's connector guidance applied to a finished document, whatever text it came from
(the gateway's own strings, flask-smorest's docstrings, the users' Kintone field labels):
``x-ms-summary`` in Title Case, and every description on one line ending with a period.
"""

from __future__ import annotations

import re
from typing import Any

# Microsoft's style guide leaves articles, short conjunctions and prepositions in lower case
# (unless they come first).
MINOR_WORDS = frozenset({"a", "an", "and", "as", "at", "but", "by", "for", "in", "nor", "of",
                         "on", "or", "the", "to", "with"})
_SPACE = re.compile(r"\s+")


def title_case(text: str) -> str:
    """``Customer code`` → ``Customer Code``; capitals already there (``ID``, ``ETag``) and
    scripts without case (``顧客番号``) stay as they are."""
    words = text.split(" ")
    return " ".join(word if (index and word in MINOR_WORDS) else word[:1].upper() + word[1:]
                    for index, word in enumerate(words))


def sentence(text: str) -> str:
    """One line, ending with a period."""
    line = _SPACE.sub(" ", text).strip()
    return line if line.endswith(".") else line + "."


def polish(node: Any) -> Any:
    """``node`` with the guidance applied, in place (documents are built fresh per request)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "x-ms-summary" and isinstance(value, str):
                node[key] = title_case(value)
            elif key == "description" and isinstance(value, str):
                node[key] = sentence(value)
            else:
                polish(value)
    elif isinstance(node, list):
        for value in node:
            polish(value)
    return node
