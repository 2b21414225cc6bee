"""System query options of one request, parsed and checked for syntax (not yet for the model).

``$filter`` is parsed by ``odata-query`` into its AST; the translator to Kintone's query
language walks that tree. Options the gateway does not implement answer 501, as OData's
conformance rules ask, never a silent wrong answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from ..model.identifiers import IDENTIFIER
from .errors import bad_request, not_acceptable, not_implemented
from .numbers import INT64_MAX, non_negative_int64
from .syntax import (
    balanced,
    check_orderby_item,
    check_search,
    check_select_item,
    parse_filter,
    split_top_level,
)
from .tree import Node

SUPPORTED = {"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$skiptoken", "$format",
             "$expand"}
UNSUPPORTED = {"$search", "$apply", "$compute", "$levels", "$index", "$schemaversion",
               "$deltatoken", "$id"}
_RAW_SEARCH_INVALID = re.compile(r"[#;]")
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_BEFORE_OFFSET = re.compile(r"\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?$")
_OFFSET = re.compile(r"\d\d:\d\d")
_ORDER_ITEM = re.compile(rf"\s*({IDENTIFIER}(?:/{IDENTIFIER})*)(?:\s+(asc|desc))?\s*", re.I)
_EXPAND_ITEM = re.compile(rf"({IDENTIFIER})(?:\((.*)\))?", re.S)
# The options an expanded navigation property takes (OData Part 2, 5.1.3).
_NESTED = {"$select", "$filter", "$orderby", "$top", "$skip", "$count"}
_NESTED_UNSUPPORTED = {"$expand", "$levels", "$search", "$apply", "$compute"}


@dataclass(frozen=True)
class OrderItem:
    path: str
    descending: bool = False


@dataclass(frozen=True)
class QueryOptions:
    filter: Node | None = None
    select: tuple[str, ...] | None = None  # None: every property
    orderby: tuple[OrderItem, ...] = ()
    top: int | None = None
    skip: int | None = None
    count: bool = False
    skiptoken: str | None = None
    format: str | None = None
    expand: tuple[ExpandItem, ...] = ()


@dataclass(frozen=True)
class ExpandItem:
    """One navigation property of ``$expand``, with its own options; ``raw`` keeps them as
    given (percent-decoded), for the next link of an expanded collection."""

    name: str
    options: QueryOptions = QueryOptions()
    raw: tuple[tuple[str, str], ...] = ()


def split_query(raw: str) -> list[tuple[str, str]]:
    """``(name, value)`` pairs of a raw query string, percent-decoded (see ``decode``)."""
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        raw_name, equals, value = part.partition("=")
        name = decode(raw_name)
        if not equals and name.startswith("$"):
            raise bad_request(f"The query option '{name}' has no value.", name)
        if name.lower() == "$search" and _RAW_SEARCH_INVALID.search(value):
            raise bad_request("$search: '#' and ';' must be percent-encoded.", "$search")
        pairs.append((name, decode(value)))
    return pairs


def decode(text: str) -> str:
    """One percent-encoded query component, decoded as web frameworks do, offsets kept.

    ``%2B`` is always a plus; a raw ``+`` is a space (``requests``, ``httpx`` and HTML forms
    encode spaces so), except right after a time of day and before ``hh:mm``, where it can only
    be a date-time offset (``2024-01-01T09:00:00+09:00``). Percent-escapes must be complete and
    spell UTF-8 (400 otherwise).
    """
    try:
        pieces = [_strict_unquote(piece) for piece in text.split("+")]
    except ValueError:
        raise bad_request(f"The query string is not valid percent-encoded UTF-8: '{text}'."
                          ) from None
    out = pieces[0]
    for piece in pieces[1:]:
        offset = _BEFORE_OFFSET.search(out) and _OFFSET.match(piece)
        out += ("+" if offset else " ") + piece
    return out


def _strict_unquote(text: str) -> str:
    if _BROKEN_ESCAPE.search(text):
        raise ValueError(text)
    return unquote_to_bytes(text).decode("utf-8")


def parse_options(args: Iterable[tuple[str, str]]) -> QueryOptions:
    """Parse the ``(name, value)`` pairs of a query string (percent-decoded).

    Names are matched case-insensitively and with or without ``$``, as OData 4.01 asks.
    """
    seen: dict[str, str] = {}
    for name, value in args:
        key = name.lower() if name.startswith("$") else f"${name.lower()}"
        if not name.startswith("$") and key not in SUPPORTED | UNSUPPORTED:
            continue  # custom query options (and @aliases) are the service's to ignore
        if key in UNSUPPORTED:
            _check_unsupported_syntax(key, value)
            raise not_implemented(f"The system query option '{name}' is not supported.", name)
        if key not in SUPPORTED:
            raise bad_request(f"Unknown system query option '{name}'.", name)
        if key in seen:
            raise bad_request(f"The system query option '{name}' is given more than once.", name)
        seen[key] = value
    return QueryOptions(
        filter=parse_filter(seen["$filter"]) if "$filter" in seen else None,
        select=_select(seen["$select"]) if "$select" in seen else None,
        orderby=_orderby(seen["$orderby"]) if "$orderby" in seen else (),
        top=_non_negative(seen, "$top"),
        skip=_non_negative(seen, "$skip"),
        count=_boolean(seen.get("$count")),
        skiptoken=seen.get("$skiptoken"),
        format=_format(seen.get("$format")),
        expand=_expand(seen["$expand"]) if "$expand" in seen else (),
    )


def _expand(text: str) -> tuple[ExpandItem, ...]:
    if not balanced(text):
        raise bad_request("Unbalanced parentheses in $expand.", "$expand")
    items = [_expand_item(item) for item in _split_outside_quotes(text, ",")]
    names = [item.name for item in items]
    if len(set(names)) != len(names):
        raise bad_request("$expand names a navigation property more than once.", "$expand")
    return tuple(items)


def _expand_item(text: str) -> ExpandItem:
    match = _EXPAND_ITEM.fullmatch(text.strip())
    if match is None:
        if text.strip() and ("*" in text or "/" in text or "$" in text):
            raise not_implemented(f"$expand item '{text.strip()}' is not supported (only "
                                  "navigation properties of the set, with options).", "$expand")
        raise bad_request(f"Invalid $expand item '{text.strip()}'.", "$expand")
    name, nested = match.groups()
    if nested is None:
        return ExpandItem(name)
    pairs = []
    for part in _split_outside_quotes(nested, ";"):
        option, equals, value = part.strip().partition("=")
        key = option.lower() if option.startswith("$") else f"${option.lower()}"
        if key in _NESTED_UNSUPPORTED:
            raise not_implemented(f"'{option}' inside $expand is not supported.", "$expand")
        if not equals or key not in _NESTED:
            raise bad_request(f"Invalid option '{part.strip()}' in $expand({name}).", "$expand")
        pairs.append((option, value))
    return ExpandItem(name, parse_options(pairs), tuple(pairs))


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator``s outside parentheses and quoted strings."""
    items, depth, start, quoted = [], 0, 0, False
    for position, char in enumerate(text):
        if char == "'":
            quoted = not quoted  # a doubled quote flips twice
        elif not quoted:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char == separator and depth == 0:
                items.append(text[start:position])
                start = position + 1
    items.append(text[start:])
    return items


def _select(text: str) -> tuple[str, ...]:
    items = split_top_level(text)
    if not all(items):
        raise bad_request("Invalid $select: empty item.", "$select")
    for item in items:
        check_select_item(item)
    return () if "*" in items else tuple(items)


def _orderby(text: str) -> tuple[OrderItem, ...]:
    items = []
    for part in text.split(","):
        match = _ORDER_ITEM.fullmatch(part)
        if not match:
            check_orderby_item(part.strip())
        direction = (match.group(2) or "asc").lower()
        items.append(OrderItem(match.group(1), direction == "desc"))
    return tuple(items)


def _non_negative(seen: dict[str, str], name: str) -> int | None:
    value = seen.get(name)
    if value is None:
        return None
    number = non_negative_int64(value)
    if number is None:
        raise bad_request(f"{name} must be a non-negative integer of ASCII digits, at most "
                          f"{INT64_MAX}.", name)
    return number


def _boolean(value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise bad_request("$count must be true or false.", "$count")
    return value.lower() == "true"


def _format(value: str | None) -> str | None:
    if value is None:
        return None
    kind = value.split(";")[0].strip().lower()
    if kind in ("json", "application/json"):
        return value
    raise not_acceptable(f"The format '{value}' is not supported.", "$format")



def _check_unsupported_syntax(key: str, value: str) -> None:
    """Unsupported options still get a 400 for values that could never be valid."""
    if key == "$search":
        check_search(value)
    elif key == "$index" and not value.lstrip("-").isdigit():
        raise bad_request("$index must be an integer.", key)
