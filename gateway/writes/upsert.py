"""Upsert by an alternate key: ``PATCH /<Set>(<Property>='value')`` (or ``=42`` for numbers).
A ``GET`` by one reads the record with that value (``web.routes``).

An alternate key is a top-level SINGLE_LINE_TEXT or NUMBER field with "prohibit duplicate
values" that is neither a lookup nor auto-calculated: what Kintone accepts as ``updateKey``
(``alternate_keys`` lists them, for ``$metadata``'s ``Core.AlternateKeys``).

``PATCH``/``PUT`` (which need the PUT right, and POST too unless ``If-Match`` rules out
creating) becomes Kintone's upsert: the record with that value is updated (204, or 200
with ``Prefer: return=representation``), or one is created with it (201 with the entity, or
204 with ``Prefer: return=minimal``). ``If-Match: *`` (or an ETag) allows the update only,
404 when there is no such record; ``If-None-Match: *`` allows the insert only. ``DELETE`` by
an alternate key is not supported (405): Kintone deletes by id only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..kintone.models import RecordRef
from ..model import EntitySet, EntityType, Property
from ..model.identifiers import IDENTIFIER
from ..odata.errors import bad_request
from ..odata.resource import literal
from ..security import require
from .context import Writes
from .exchange import Reply, WriteRequest
from .ops import AddRecord, UpdateRecord, Write
from .planning import Planned, method_not_allowed, related_apps
from .shaping import written
from .values import read_only_reason, to_record, to_value

_KEY_TYPES = frozenset({"SINGLE_LINE_TEXT", "NUMBER"})
_ASSIGNMENT = re.compile(rf"\s*({IDENTIFIER})\s*=\s*(.*?)\s*", re.S)
_QUOTED = re.compile(r"'((?:[^']|'')*)'", re.S)


@dataclass(frozen=True)
class AlternateKey:
    prop: Property
    value: Any  # in Kintone's write format

    @property
    def update_key(self) -> dict[str, Any]:
        return {"field": self.prop.kintone_code, "value": self.value}

    @property
    def condition(self) -> str:
        """The key as a ``$filter`` condition: how a read by it finds its record."""
        # A number's value is its Kintone text, already a literal.
        text = literal(self.value) if self.prop.kintone_type == "SINGLE_LINE_TEXT" else self.value
        return f"{self.prop.name} eq {text}"


def alternate_keys(entity_type: EntityType) -> tuple[Property, ...]:
    return tuple(prop for prop in entity_type.properties if _is_alternate(prop))


def _is_alternate(prop: Property) -> bool:
    return (prop.unique and prop.kintone_type in _KEY_TYPES and not prop.lookup
            and read_only_reason(prop, frozenset()) is None)


def alternate_key(entity_set: EntitySet, text: str) -> AlternateKey | None:
    """The alternate key in a key predicate; None for the entity key (``42``, ``Id=42``)."""
    match = _ASSIGNMENT.fullmatch(text)
    if match is None or match.group(1) in entity_set.entity_type.key:
        return None
    name, literal = match.groups()
    entity_type = entity_set.entity_type
    if not entity_type.has_property(name) or not _is_alternate(entity_type.property(name)):
        keys = ", ".join(p.name for p in alternate_keys(entity_type)) or "none"
        raise bad_request(f"'{name}' is not a key of {entity_set.name} (alternate keys: "
                          f"{keys}).", name)
    prop = entity_type.property(name)
    quoted = _QUOTED.fullmatch(literal)
    if (quoted is not None) != (prop.kintone_type == "SINGLE_LINE_TEXT"):
        raise bad_request(f"'{literal}' is not a valid {prop.edm_type} literal for {name}.", name)
    raw = quoted.group(1).replace("''", "'") if quoted else literal
    return AlternateKey(prop, to_value(prop, raw))


def plan(ctx: Writes, req: WriteRequest, entity_set: EntitySet, key: AlternateKey) -> Planned:
    if req.method == "DELETE":
        raise method_not_allowed("Records are deleted by Id only (Kintone has no delete by "
                                 "key).", ("GET", "PATCH", "PUT"))
    if req.headers.get("If-Match") is None:
        require("POST", entity_set.name, ", which an upsert that may create a record needs "
                "(If-Match: * updates only)")
    fmt = req.json_format
    body = req.json_object()
    _check_key_in_body(body, key)
    converted = to_record(entity_set.entity_type, body, replace=req.method == "PUT")
    record = {code: cell for code, cell in converted.record.items()
              if code != key.prop.kintone_code}

    def finish(ref: RecordRef | None) -> Reply:
        assert ref is not None
        return written(ctx.client, req, entity_set, ref, created=ref.operation == "INSERT",
                       fmt=fmt, truncated=converted.truncated)

    return Planned(entity_set, _write(req, entity_set, key, record), finish)


def _write(req: WriteRequest, entity_set: EntitySet, key: AlternateKey,
           record: dict[str, Any]) -> Write:
    app = entity_set.app_id
    assert app is not None
    related = related_apps(entity_set, [record])
    if req.headers.get("If-None-Match", "").strip() == "*":
        code = key.prop.kintone_code
        assert code is not None  # an alternate key is a unique Kintone field
        with_key = {**record, code: {"value": key.value}}
        return AddRecord(app, with_key, related)
    update_only = req.headers.get("If-Match") is not None
    return UpdateRecord(app, {"updateKey": key.update_key}, record, req.revision(),
                        upsert=not update_only, related_apps=related)


def _check_key_in_body(body: dict[str, Any], key: AlternateKey) -> None:
    """The key may be repeated in the body, but not changed: that would be a different record."""
    name = key.prop.name
    if name in body and to_value(key.prop, body[name]) != key.value:
        raise bad_request(f"{name} in the body differs from the key in the URL.", name)
