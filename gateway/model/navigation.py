"""Navigation properties of a record type: its comments, the rows of each subtable, the record
each lookup field points at and the records each reference table lists (``$expand``,
``Set(Id)/Comments``, ``Set(Id)/<reference table>``).

They are named in the type's property scope after every field, so that navigation never renames
a field: a field coded ``Comments`` keeps its name and the navigation becomes ``Comments_2``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from .naming import RESERVED_PROPERTY_NAMES, NameRegistry, from_code
from .schema import NavigationProperty

Link = NavigationProperty | None

COMMENTS = "Comments"
COMMENTS_SET = "Comments"


def subtable_link(prop_name: str, code: str, set_name: str) -> NavigationProperty:
    return NavigationProperty(f"{prop_name}_Rows", "rows", set_name, True, code)


def lookup_link(prop_name: str, code: str, props: Mapping[str, Any],
                set_names: Mapping[int, str], app_codes: Mapping[str, int]) -> Link:
    """The link of a lookup field to the record it copies from, when that app is exposed."""
    lookup = props.get("lookup") or {}
    app_id = _related_app(lookup.get("relatedApp") or {}, app_codes)
    key = lookup.get("relatedKeyField")
    if app_id is None or app_id not in set_names or not key:
        return None
    return NavigationProperty(f"{prop_name}_Record", "lookup", set_names[app_id], False, code, key)


def reference_link(code: str, props: Mapping[str, Any], own_codes: Iterable[str],
                   set_names: Mapping[int, str], app_codes: Mapping[str, int]) -> Link:
    """The link of a reference table to the records it lists, when that app is exposed and the
    field it matches on is a property of this type."""
    table = props.get("referenceTable") or {}
    app_id = _related_app(table.get("relatedApp") or {}, app_codes)
    condition = table.get("condition") or {}
    own, theirs = condition.get("field"), condition.get("relatedField")
    if app_id is None or app_id not in set_names or own not in set(own_codes) or not theirs:
        return None
    return NavigationProperty(from_code(code), "reference", set_names[app_id], True, own, theirs,
                table.get("filterCond") or None)


def _related_app(related: Mapping[str, Any], app_codes: Mapping[str, int]) -> int | None:
    app = str(related.get("app") or "")
    return int(app) if app.isdigit() else app_codes.get(related.get("code") or "")


def record_navigation(taken: Iterable[str], links: Iterable[NavigationProperty]
                      ) -> tuple[NavigationProperty, ...]:
    """Comments first, then ``links`` in order, each renamed, when it must be, to a name no
    property has."""
    registry = NameRegistry(RESERVED_PROPERTY_NAMES | frozenset(taken))
    wishes = [NavigationProperty(COMMENTS, "comments", COMMENTS_SET, True), *links]
    return tuple(replace(link, name=registry.claim(link.name)) for link in wishes)
