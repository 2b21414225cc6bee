"""The resource path after ``/api.rsc/``: which resource a URL names, with its key predicate.

Supported: the service root, ``$metadata``, ``Set``, ``Set/$count``, ``Set(key)``,
``Set(key)/Property``, ``Set(key)/Property/$value`` and, for navigation properties,
``Set(key)/Navigation`` and ``Set(key)/Navigation/$count``. An ``@<authtoken>`` first segment is
accepted (CData-style token in the URL) and kept so that generated links keep it too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from ..model import EntityType, edm
from ..model.identifiers import IDENTIFIER
from .errors import bad_request, not_found, not_implemented
from .numbers import FIRST_ID, int64

Kind = Literal["service", "metadata", "collection", "count", "entity", "property", "value"]

_SEGMENT = re.compile(r"(?:[^/']|'(?:[^']|'')*')+")
_SET_AND_KEY = re.compile(rf"({IDENTIFIER})(?:\((.*)\))?", re.S)
_PART = re.compile(r"(?:[^,']|'(?:[^']|'')*')+")
# One string in a key predicate, ``Set('v')`` or ``Set(Prop='v')``, then the rest of the path.
_ONE_STRING_KEY = re.compile(rf"((?:@[^/]*/)?{IDENTIFIER}\((?:\s*{IDENTIFIER}\s*=\s*)?)"
                             r"'((?:(?!'\)).)*)'(\).*)", re.S)
_QUOTED_BODY = re.compile(r"(?:[^']|'')*", re.S)
_UNSUPPORTED_SEGMENTS = ("$batch", "$ref", "$entity", "$crossjoin", "$all", "$each", "$filter")


@dataclass(frozen=True)
class ResourcePath:
    kind: Kind
    authtoken: str | None = None
    entity_set: str | None = None
    key: str | None = None  # the text between the parentheses of the key predicate
    property_name: str | None = None

    @property
    def root_path(self) -> str:
        """The service root relative to ``/api.rsc``: ``""`` or ``"/@<token>"``."""
        return f"/@{self.authtoken}" if self.authtoken is not None else ""


PATHS_KEPT = 256  # parsed paths kept: a request's is parsed by the method policy and the view


@lru_cache(maxsize=PATHS_KEPT)
def parse_path(path: str) -> ResourcePath:
    """``path`` is what follows ``/api.rsc/``, percent-decoded."""
    segments = _SEGMENT.findall(_quotes_escaped(path))
    token = None
    if segments and segments[0].startswith("@"):
        token, segments = segments[0][1:], segments[1:]
    if not segments:
        return ResourcePath("service", token)
    if segments == ["$metadata"]:
        return ResourcePath("metadata", token)
    for segment in segments:
        if segment in _UNSUPPORTED_SEGMENTS:
            raise not_implemented(f"The path segment '{segment}' is not supported.")
    match = _SET_AND_KEY.fullmatch(segments[0])
    if match is None or len(segments) > 3:
        raise not_found(f"No resource at '{path}'.")
    name, key = match.groups()
    rest = segments[1:]
    if key is None:
        if not rest:
            return ResourcePath("collection", token, name)
        if rest == ["$count"]:
            return ResourcePath("count", token, name)
        raise not_implemented("Only /$count may follow an entity set (no navigation or casts).")
    if not rest:
        return ResourcePath("entity", token, name, key)
    if len(rest) == 2 and rest[1] == "$count":
        return ResourcePath("count", token, name, key, rest[0])
    if len(rest) == 2 and rest[1] != "$value":
        raise not_found(f"No resource at '{path}'.")
    return ResourcePath("value" if len(rest) == 2 else "property", token, name, key, rest[0])


def _quotes_escaped(path: str) -> str:
    """``Set(Code='O'Brien')`` as ``Set(Code='O''Brien')``: what a connector makes of a key
    template ``Set(Code='{Key}')``, which cannot know OData's quoting rule. A string with a lone
    quote cannot be an OData literal, so it is read as raw text; a valid literal is unchanged."""
    match = _ONE_STRING_KEY.fullmatch(path)
    if match is None or _QUOTED_BODY.fullmatch(match.group(2)):
        return path
    head, value, tail = match.groups()
    return head + "'" + value.replace("'", "''") + "'" + tail


def parse_key(text: str, entity_type: EntityType) -> dict[str, Any]:
    """A key predicate (``42`` or ``AppId=1,Code='x'``) as ``{key property: value}``."""
    parts = _PART.findall(text)
    if ",".join(parts) != text or not parts:
        raise _bad_key(text)
    key = entity_type.key
    if len(parts) == 1 and "=" not in _unquoted(parts[0]):
        if len(key) != 1:
            raise bad_request(f"The key of {entity_type.name} has the parts {', '.join(key)}: "
                              f"give each as Name=value.")
        return {key[0]: _key_value(parts[0].strip(), entity_type, key[0])}
    values: dict[str, Any] = {}
    for part in parts:
        name, equals, value = part.partition("=")
        name = name.strip()
        if not equals or name not in key or name in values:
            raise _bad_key(text)
        values[name] = _key_value(value.strip(), entity_type, name)
    if set(values) != set(key):
        raise bad_request(f"The key of {entity_type.name} needs {', '.join(key)}.")
    return values


def _key_value(text: str, entity_type: EntityType, name: str) -> Any:
    edm_type = entity_type.property(name).edm_type
    if edm_type == edm.INT64 and (number := int64(text)) is not None:
        if number < FIRST_ID:
            raise not_found(f"There is no {entity_type.name} with {name} {number}: Kintone's "
                            f"ids start at {FIRST_ID}.", name)
        return number
    if edm_type == edm.STRING and len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    raise bad_request(f"'{text}' is not a valid {edm_type} value for the key {name}.", name)


def _unquoted(text: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", text)


def _bad_key(text: str) -> Exception:
    return bad_request(f"Invalid key predicate '({text})'.")


def literal(value: Any) -> str:
    """A key value as an OData literal: ``'O''Brien'``, ``42``."""
    return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else str(value)


def key_text(key: Mapping[str, Any]) -> str:
    """The canonical key predicate of ``key`` (for context URLs)."""
    if len(key) == 1:
        return literal(next(iter(key.values())))
    return ",".join(f"{name}={literal(value)}" for name, value in key.items())
