"""System query options of one request, parsed and checked for syntax (not yet for the model).

``$filter`` is parsed by ``odata-query`` into its AST; the translator to Kintone's query
language walks that tree. Options the gateway does not implement answer 501, as OData's
conformance rules ask, never a silent wrong answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from odata_query import ast

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

SUPPORTED = {"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$skiptoken", "$format"}
UNSUPPORTED = {"$expand", "$search", "$apply", "$compute", "$levels", "$index", "$schemaversion",
               "$deltatoken", "$id"}
_IDENTIFIER = r"[^\W\d][\w]*"
_RAW_SEARCH_INVALID = re.compile(r"[#;]")
_ORDER_ITEM = re.compile(rf"\s*({_IDENTIFIER}(?:/{_IDENTIFIER})*)(?:\s+(asc|desc))?\s*", re.I)


@dataclass(frozen=True)
class OrderItem:
    path: str
    descending: bool = False


@dataclass(frozen=True)
class QueryOptions:
    filter: ast._Node | None = None
    select: tuple[str, ...] | None = None  # None: every property
    orderby: tuple[OrderItem, ...] = ()
    top: int | None = None
    skip: int | None = None
    count: bool = False
    skiptoken: str | None = None
    format: str | None = None


def split_query(raw: str) -> list[tuple[str, str]]:
    """``(name, value)`` pairs of a raw query string.

    Unlike form decoding, ``+`` stays a literal plus: OData clients encode a space as ``%20``
    and a plus as ``%2B`` or, carelessly, as a raw ``+`` meaning plus.
    """
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        name, equals, value = part.partition("=")
        if not equals and unquote(name).startswith("$"):
            raise bad_request(f"The query option '{unquote(name)}' has no value.", unquote(name))
        if unquote(name).lower() == "$search" and _RAW_SEARCH_INVALID.search(value):
            raise bad_request("$search: '#' and ';' must be percent-encoded.", "$search")
        pairs.append((unquote(name), unquote(value)))
    return pairs


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
    )


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
    elif key == "$expand" and not balanced(value):
        raise bad_request("Unbalanced parentheses in $expand.", key)
