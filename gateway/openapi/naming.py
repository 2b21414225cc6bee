"""ASCII PascalCase names for operationIds and definition keys.

Power Automate wants operationIds in PascalCase with no ``-`` or ``_``, and code generators turn
definition keys into class names, so both must be ASCII even when the entity set is called
``サポート問い合わせ``. Display text (summaries, ``x-ms-summary``, tags) keeps the real names.

Rules:

* an ASCII set name is split into words at every character that is not a letter or digit, and
  each word is capitalised (``CUSTOMERS_contacts`` → ``CustomersContacts``);
* a set name with other characters falls back to its app id: ``App12`` for the records, and
  ``App12`` + the subtable's ASCII name (or ``Table<n>``) for a subtable;
* names are computed over the whole model, in model order, so scoping a document to a few sets
  never renames an operation; a name taken already (ignoring case) gets the app id, then a
  number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, count

from ..model import EntitySet, Model

_WORD = re.compile(r"[A-Za-z0-9]+")


def pascal(text: str) -> str | None:
    """``customer_code`` → ``CustomerCode``; ``None`` when ``text`` is not plain ASCII."""
    if not text.isascii():
        return None
    words = _WORD.findall(text)
    return "".join(_capitalise(word) for word in words) or None


def _capitalise(word: str) -> str:
    # An all-capitals word (an app code such as ORDERS) reads as a word, not as an acronym.
    return word.capitalize() if word.isupper() else word[:1].upper() + word[1:]


@dataclass(frozen=True)
class SetNames:
    """The ASCII names of one entity set: ``plural`` for the set, ``singular`` for one entity
    (``Apps``/``App``; a Kintone app's set uses its name for both, as its type does)."""

    plural: str
    singular: str


def set_names(model: Model) -> dict[str, SetNames]:
    """ASCII names of every entity set of ``model``, by entity-set name."""
    taken: set[str] = set()
    names: dict[str, SetNames] = {}
    for entity_set in model.entity_sets.values():
        plural = _claim(taken, _candidates(model, entity_set, names))
        singular = entity_set.entity_type.name if entity_set.app_id is None else plural
        names[entity_set.name] = SetNames(plural, pascal(singular) or plural)
    return names


def _candidates(model: Model, entity_set: EntitySet, done: dict[str, SetNames]) -> Iterator[str]:
    derived = pascal(entity_set.name)
    if derived:
        yield derived
    if entity_set.app_id is None:
        return
    if entity_set.kind == "subtable":
        parent = done[entity_set.parent or ""].plural
        yield parent + _subtable_part(model, entity_set)
    yield f"App{entity_set.app_id}"


def _subtable_part(model: Model, entity_set: EntitySet) -> str:
    parent = model.entity_set(entity_set.parent or "")
    prop = parent.property_for_code(entity_set.subtable_code or "")
    siblings = model.subtable_sets(entity_set.app_id or 0)
    return pascal(prop.name) or f"Table{siblings.index(entity_set) + 1}"


def _claim(taken: set[str], candidates: Iterator[str]) -> str:
    wanted = list(candidates)
    numbered = (f"{wanted[-1]}{number}" for number in count(2))
    name = next(name for name in chain(wanted, numbered) if name.casefold() not in taken)
    taken.add(name.casefold())
    return name


class OperationIds:
    """Hands out unique operationIds: ``GetCount`` + ``Foo`` and ``Get`` + ``CountFoo`` must not
    both be ``GetCountFoo``; the later one gets a number."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, wanted: str) -> str:
        return _claim(self._taken, iter([wanted]))
