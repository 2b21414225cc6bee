"""OData JSON payloads (JSON Format 4.0) from model values, and their serialisation.

Values come in as ``Property.to_odata`` makes them (``str``, ``int``, ``Decimal``, ``bool``,
``date``, aware ``datetime``, ``time``, ``None``, lists, dicts) and go out JSON-ready, except
that ``Decimal`` stays a ``Decimal`` so no digit is lost: serialise with ``dumps``, never with
``json.dumps``. Collections are written as a stream of text chunks so memory does not grow with
the result: ``@odata.context`` and ``@odata.count`` come before ``value`` (required for
``odata.streaming=true``), ``@odata.nextLink`` after it, where the JSON format allows it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from gateway.model import ComplexType, EntitySet, EntityType, Property, edm

from .errors import bad_request
from .media import MetadataLevel

# Chunks of about this many characters: one write per entity would cost a syscall each.
CHUNK_SIZE = 1 << 16

# Types a client cannot tell from the JSON value alone get an @odata.type in full metadata.
_SELF_EVIDENT = frozenset({edm.STRING, edm.BOOLEAN})
# What a value found inside Kintone.Entity/File/Mention is: those types hold primitives only.
_VALUE_TYPES: tuple[tuple[type, str], ...] = (
    (bool, edm.BOOLEAN), (int, edm.INT64), (Decimal, edm.DECIMAL),
    (datetime, edm.DATETIME_OFFSET), (date, edm.DATE), (time, edm.TIME_OF_DAY), (str, edm.STRING),
)
_encode_string: Callable[[str], str] = json.encoder.encode_basestring

SelectTree = dict[str, "SelectTree | None"]


# --- URLs ------------------------------------------------------------------------------------

def key_predicate(entity_type: EntityType, entity: Mapping[str, Any]) -> str:
    """``(42)`` or ``(AppId=7,Code='a%2Fb')`` for an entity with the given key values."""
    try:
        values = [(name, entity[name]) for name in entity_type.key]
    except KeyError as exc:
        raise ValueError(f"{entity_type.name} entity lacks key property {exc}") from None
    if len(values) == 1:
        return f"({_key_literal(values[0][1])})"
    return "(" + ",".join(f"{name}={_key_literal(value)}" for name, value in values) + ")"


def _key_literal(value: Any) -> str:
    if isinstance(value, str):
        return quote("'" + value.replace("'", "''") + "'", safe="'")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"unsupported key value {value!r}")
    return str(value)


def entity_url(base_url: str, entity_set: EntitySet, entity: Mapping[str, Any]) -> str:
    """The canonical URL of an entity: its ``@odata.id`` and edit link."""
    return f"{_root(base_url)}/{entity_set.name}{key_predicate(entity_set.entity_type, entity)}"


def context_url(
    base_url: str,
    entity_set: str,
    select: Sequence[str] | None = None,
    *,
    entity: bool = False,
    key: str | None = None,
    property: str | None = None,
) -> str:
    """The ``@odata.context`` of a response.

    ``#Customers`` (a collection), ``#Customers(Name,Id)`` (with ``$select``),
    ``#Customers/$entity`` (``entity=True``), ``#Customers(42)/Name`` (``key`` is a
    ``key_predicate`` and ``property`` the property's name).
    """
    metadata = f"{_root(base_url)}/$metadata#{entity_set}"
    if property is not None:
        if key is None:
            raise ValueError("a property context URL needs the entity's key predicate")
        return f"{metadata}{key}/{property}"
    selected = f"({','.join(select)})" if select else ""
    return f"{metadata}{selected}/$entity" if entity else f"{metadata}{selected}"


def _root(base_url: str) -> str:
    return base_url.rstrip("/")


# --- Entities and properties -----------------------------------------------------------------

@dataclass(frozen=True)
class _Shaper:
    """Turns model values into JSON-ready values for one metadata level and number mode."""

    metadata: MetadataLevel
    ieee754: bool

    @property
    def full(self) -> bool:
        return self.metadata == "full"

    def properties(
        self, out: dict[str, Any], props: Iterable[Property], values: Mapping[str, Any],
        select: SelectTree | None,
    ) -> None:
        for prop in props:
            if prop.name in values and (select is None or prop.name in select):
                subselect = select[prop.name] if select is not None else None
                self.put(out, prop.name, values[prop.name], prop.edm_type, prop.collection,
                         prop.row_type, subselect)

    def put(
        self, out: dict[str, Any], name: str, value: Any, edm_type: str, collection: bool,
        row_type: ComplexType | None, select: SelectTree | None,
    ) -> None:
        if self.full and value is not None and _needs_type(edm_type, collection):
            out[f"{name}@odata.type"] = _type_annotation(edm_type, collection)
        out[name] = self.value(value, edm_type, collection, row_type, select)

    def value(
        self, value: Any, edm_type: str, collection: bool, row_type: ComplexType | None,
        select: SelectTree | None = None,
    ) -> Any:
        if collection:
            return [self.value(item, edm_type, False, row_type, select) for item in value or []]
        if isinstance(value, Mapping):
            return self.complex(value, edm_type, row_type, select)
        return json_value(value, ieee754=self.ieee754)

    def complex(
        self, value: Mapping[str, Any], edm_type: str, row_type: ComplexType | None,
        select: SelectTree | None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.full:
            out["@odata.type"] = f"#{edm_type}"
        if row_type is not None:
            self.properties(out, row_type.properties, value, select)
            return out
        for name, item in value.items():
            if select is None or name in select:
                self.put(out, name, item, _edm_type_of(item), False, None, None)
        return out


def entity_json(
    entity_set: EntitySet,
    entity: Mapping[str, Any],
    *,
    metadata: MetadataLevel = "minimal",
    base_url: str = "",
    select: Sequence[str] | None = None,
    ieee754: bool = False,
) -> dict[str, Any]:
    """One entity as it appears in a collection: control information, then its properties.

    ``entity`` maps property names to values and must hold the key properties (for the ids in
    full metadata) and, for record sets, ``Revision`` (for the ETag), selected or not.
    ``select`` is the ``$select`` list (paths such as ``items/qty`` allowed); empty or ``None``
    selects everything.
    """
    shaper = _Shaper(metadata, ieee754)
    out: dict[str, Any] = {}
    url = entity_url(base_url, entity_set, entity) if shaper.full else ""
    if shaper.full:
        out["@odata.type"] = f"#{entity_set.entity_type.qualified_name}"
        out["@odata.id"] = url
    etag = entity_etag(entity_set, entity)
    if etag is not None and metadata != "none":
        out["@odata.etag"] = etag
    if shaper.full:
        out["@odata.editLink"] = url
    shaper.properties(out, entity_set.entity_type.properties, entity, select_tree(select))
    return out


def entity_document(
    entity_set: EntitySet,
    entity: Mapping[str, Any],
    *,
    metadata: MetadataLevel = "minimal",
    base_url: str = "",
    select: Sequence[str] | None = None,
    ieee754: bool = False,
) -> dict[str, Any]:
    """A single entity as a response body (``GET /Customers(42)``): with its context URL."""
    body = entity_json(entity_set, entity, metadata=metadata, base_url=base_url, select=select,
                       ieee754=ieee754)
    if metadata == "none":
        return body
    context = context_url(base_url, entity_set.name, select, entity=True)
    return {"@odata.context": context, **body}


def entity_etag(entity_set: EntitySet, entity: Mapping[str, Any]) -> str | None:
    """``W/"<revision>"`` for a record; ``None`` for other sets or without a revision."""
    if entity_set.kind != "records":
        return None
    revision = entity.get(entity_set.name_for_code("$revision"))
    return None if revision is None else f'W/"{revision}"'


def property_json(
    entity_set: EntitySet,
    entity: Mapping[str, Any],
    name: str,
    *,
    metadata: MetadataLevel = "minimal",
    base_url: str = "",
    ieee754: bool = False,
) -> dict[str, Any]:
    """The body of ``GET /Customers(42)/Name``: ``entity`` holds the key and the property.

    A primitive or collection comes as ``{"value": ...}``, a single complex value as the object
    itself. A null primitive is not a body: answer 204 No Content before calling this.
    """
    prop = entity_set.property(name)
    shaper = _Shaper(metadata, ieee754)
    value = shaper.value(entity.get(name), prop.edm_type, prop.collection, prop.row_type)
    body: dict[str, Any] = {}
    if metadata != "none":
        key = key_predicate(entity_set.entity_type, entity)
        body["@odata.context"] = context_url(base_url, entity_set.name, key=key, property=name)
    if isinstance(value, dict):
        return {**body, **value}
    return {**body, "value": value}


def raw_value(value: Any) -> str:
    """The text of ``/$value`` for a primitive value (the caller answers 204 for null)."""
    if isinstance(value, (Mapping, list)):
        raise bad_request("$value is only available for primitive properties.")
    text = json_value(value, ieee754=True)
    if isinstance(text, bool):
        return "true" if text else "false"
    return str(text)


def select_tree(select: Sequence[str] | None) -> SelectTree | None:
    """``("a", "b/c", "b/d")`` as ``{"a": None, "b": {"c": None, "d": None}}``; ``None`` is
    everything. Selecting a path and its prefix selects the whole prefix."""
    if not select:
        return None
    tree: SelectTree = {}
    for path in select:
        _add_path(tree, path.split("/"))
    return tree


def _add_path(tree: SelectTree, segments: list[str]) -> None:
    head, *rest = segments
    if not rest:
        tree[head] = None
        return
    subtree = tree.setdefault(head, {})
    if subtree is not None:  # None: the whole property is selected already
        _add_path(subtree, rest)


def _edm_type_of(value: Any) -> str:
    for python_type, edm_type in _VALUE_TYPES:
        if isinstance(value, python_type):
            return edm_type
    return edm.STRING  # None: the annotation is left out anyway


def _needs_type(edm_type: str, collection: bool) -> bool:
    # A single complex value carries its own @odata.type inside.
    return collection or (edm_type.startswith("Edm.") and edm_type not in _SELF_EVIDENT)


def _type_annotation(edm_type: str, collection: bool) -> str:
    name = edm_type.removeprefix("Edm.")  # primitive type names go unqualified in JSON
    return f"#Collection({name})" if collection else f"#{name}"


# --- Primitive values ------------------------------------------------------------------------

def json_value(value: Any, *, ieee754: bool = False) -> Any:
    """A primitive OData value as a JSON-ready value (``Decimal`` kept for ``dumps``).

    With ``IEEE754Compatible=true``, Edm.Int64 and Edm.Decimal become strings so JavaScript
    clients keep every digit.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return str(value) if ieee754 else value
    if isinstance(value, Decimal):
        return decimal_text(value) if ieee754 else value
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec=_timespec(value.microsecond))
    raise TypeError(f"not an OData primitive value: {value!r}")


def decimal_text(value: Decimal) -> str:
    """Plain notation: OData 4.0's decimal literal has no exponent."""
    if not value.is_finite():
        raise ValueError(f"Edm.Decimal cannot be {value}")
    return format(value, "f")


def datetime_text(value: datetime) -> str:
    """ISO 8601 in UTC with ``Z``; milliseconds only when there are any (``Precision="3"``)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: Edm.DateTimeOffset needs a time zone")
    utc = value.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec=_timespec(utc.microsecond)) + "Z"


def _timespec(microsecond: int) -> str:
    return "milliseconds" if microsecond else "seconds"


# --- Serialisation ---------------------------------------------------------------------------

def dumps(value: Any) -> str:
    """Compact JSON text, UTF-8 characters unescaped; ``Decimal`` as an exact JSON number."""
    if isinstance(value, str):
        return _encode_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, Mapping):
        items = (f"{_encode_string(key)}:{dumps(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, float):
        return json.dumps(value, allow_nan=False)
    raise TypeError(f"not JSON-ready: {value!r}")


# --- Collections, streamed -------------------------------------------------------------------

def collection_start(context: str | None, count: int | None = None, *,
                     ieee754: bool = False) -> str:
    """The text before the first entity: ``{"@odata.context":…,"@odata.count":…,"value":[``.

    ``context`` is ``None`` for ``odata.metadata=none``; the count is a string under
    ``IEEE754Compatible=true``, as the JSON format asks.
    """
    head: dict[str, Any] = {}
    if context is not None:
        head["@odata.context"] = context
    if count is not None:
        head["@odata.count"] = json_value(count, ieee754=ieee754)
    members = "".join(f"{_encode_string(name)}:{dumps(value)}," for name, value in head.items())
    return "{" + members + '"value":['


def collection_end(next_link: str | None = None) -> str:
    """The text after the last entity, with the next link if there are more pages."""
    if next_link is None:
        return "]}"
    return f'],"@odata.nextLink":{_encode_string(next_link)}}}'


def stream_collection(
    context: str | None,
    entities: Iterable[Mapping[str, Any]],
    *,
    count: int | None = None,
    next_link_factory: Callable[[], str | None] | None = None,
    ieee754: bool = False,
) -> Iterator[str]:
    """A collection response as text chunks of about ``CHUNK_SIZE`` characters.

    ``entities`` are ``entity_json`` results, consumed lazily. ``next_link_factory`` is called
    once all of them are written, so it can depend on how far the paging got.
    """
    buffer = [collection_start(context, count, ieee754=ieee754)]
    size = len(buffer[0])
    separator = ""
    for entity in entities:
        text = separator + dumps(entity)
        separator = ","
        buffer.append(text)
        size += len(text)
        if size >= CHUNK_SIZE:
            yield "".join(buffer)
            buffer, size = [], 0
    buffer.append(collection_end(next_link_factory() if next_link_factory else None))
    yield "".join(buffer)
