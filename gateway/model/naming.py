"""OData identifiers from Kintone app codes, app names and field codes.

Rules (see also ``NameRegistry``):

* A name is an OData SimpleIdentifier: a letter, letter number or ``_`` first, then up to 127
  letters, digits, combining marks, connector punctuation or format characters. Japanese text is
  valid and is kept as is, never transliterated.
* Field codes and app codes are identifiers their admins chose, so a valid one is used verbatim.
  An invalid one is split at the offending characters (``・``, spaces, ``-``, ``$`` ...) and the
  pieces are joined with ``_`` (field codes) or PascalCased (app names: "support tickets" →
  ``SupportTickets``). A leading digit gets a ``_`` in front.
* Names are unique case-insensitively, because several BI tools and SQL-backed extract engines
  fold case; the first claimant keeps a name, later ones get a deterministic suffix.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable, Iterable
from itertools import chain, count, groupby
from typing import TypeVar

from .identifiers import MAX_LENGTH, PART_CATEGORIES, START_CATEGORIES

# Names the service itself uses for entity sets and the shared types of the `Kintone` schema.
# `$metadata`, `$batch` ... can never clash: `$` is not an identifier character.
# Names the CSDL schema uses itself: the static sets and types, the entity container and the
# annotation terms all share one name scope with the apps' types.
RESERVED_SET_NAMES = frozenset(
    {"Apps", "Comments", "Fields", "App", "Comment", "Field", "Entity", "File", "Mention",
     "Container", "FieldCode", "FieldType", "AppId", "AppCode", "SubtableCode"}
)
# Property names a `$filter`/`$orderby` parser would read as a literal or an operator.
RESERVED_PROPERTY_NAMES = frozenset({"null", "true", "false", "INF", "NaN", "not"})

K = TypeVar("K", bound=Hashable)


def is_identifier(name: str) -> bool:
    """Whether ``name`` is an OData SimpleIdentifier."""
    if not 0 < len(name) <= MAX_LENGTH:
        return False
    return _can_start(name[0]) and all(_can_continue(ch) for ch in name[1:])


def _can_start(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch) in START_CATEGORIES


def _can_continue(ch: str) -> bool:
    return unicodedata.category(ch) in PART_CATEGORIES


def _pieces(text: str) -> list[str]:
    """The runs of identifier characters in ``text``, in order."""
    return ["".join(run) for ok, run in groupby(text, _can_continue) if ok]


def _finish(name: str, fallback: str) -> str:
    if not name:
        return fallback
    if not _can_start(name[0]):
        name = "_" + name
    return name[:MAX_LENGTH]


def from_code(code: str, fallback: str = "Field") -> str:
    """A property/entity-set name for a Kintone field code or app code."""
    if is_identifier(code):
        return code
    return _finish("_".join(_pieces(code)), fallback)


def from_label(text: str, fallback: str) -> str:
    """A PascalCase-ish name for free text such as an app name ("support tickets")."""
    return _finish("".join(_capitalise(word) for word in _pieces(text)), fallback)


def _capitalise(word: str) -> str:
    # Only the first letter changes: "CRM" stays "CRM", Japanese has no case anyway.
    return word[:1].upper() + word[1:]


class NameRegistry:
    """Hands out names unique within one scope, ignoring case.

    Deterministic: the same claims in the same order always get the same names.
    """

    def __init__(self, reserved: frozenset[str] = frozenset()) -> None:
        self._taken: set[str] = {name.casefold() for name in reserved}

    def is_free(self, name: str) -> bool:
        return name.casefold() not in self._taken

    def claim_exact(self, name: str) -> bool:
        """Take ``name`` if it is a free identifier; ``False`` leaves the registry unchanged."""
        if not is_identifier(name) or not self.is_free(name):
            return False
        self._taken.add(name.casefold())
        return True

    def claim_all(self, wishes: Iterable[tuple[K, str, str | None]]) -> dict[K, str]:
        """Names for ``(owner, wanted name, suffix)`` wishes, in order.

        Everyone whose wanted name is free gets it before anyone is given a suffixed name, so
        a suffixed name never takes the name another owner wanted verbatim ("Id" → "Id_2" must
        not push a real "Id_2" aside).
        """
        wishes = list(wishes)
        names = {owner: name for owner, name, _ in wishes if self.claim_exact(name)}
        for owner, name, suffix in wishes:
            if owner not in names:
                names[owner] = self.claim(name, suffix)
        return names

    def claim(self, name: str, suffix: str | None = None) -> str:
        """``name`` if free, else ``name_<suffix>``, else ``name_<suffix>_2``, ``_3`` ..."""
        tag = f"_{suffix}" if suffix else ""
        candidates = chain([name, _fit(name, tag)], (_fit(name, f"{tag}_{n}") for n in count(2)))
        return next(candidate for candidate in candidates if self.claim_exact(candidate))


def _fit(name: str, suffix: str) -> str:
    """``name + suffix`` shortened to the identifier length limit, keeping the suffix."""
    return name[: MAX_LENGTH - len(suffix)] + suffix
