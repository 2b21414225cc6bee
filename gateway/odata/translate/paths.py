"""Names and types: what a property path in a filter denotes (400 for unknown names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from odata_query import ast

from gateway.model import edm
from gateway.model.schema import EntitySet, Property, UnknownName

from ..errors import bad_request
from ..evaluate import SPECIAL_NUMBERS

_NUMERIC = frozenset({edm.INT64, edm.DECIMAL, "Edm.Int32", "Edm.Double"})
_NULL = "null"
# Members of the shared complex types (the model keeps them in its static ComplexTypes).
_MEMBERS: Mapping[str, Mapping[str, str]] = {
    edm.ENTITY: {"Code": edm.STRING, "Name": edm.STRING},
    edm.FILE: {"ContentType": edm.STRING, "FileKey": edm.STRING, "Name": edm.STRING,
               "Size": edm.INT64},
    edm.MENTION: {"Code": edm.STRING, "Type": edm.STRING},
}


@dataclass(frozen=True)
class _Type:
    name: str  # EDM type name, or "null" for the null literal
    collection: bool = False

    @property
    def primitive(self) -> bool:
        return self.name.startswith("Edm.") and not self.collection

    def __str__(self) -> str:
        return f"Collection({self.name})" if self.collection else self.name


@dataclass(frozen=True)
class _Path:
    """What a property path denotes. ``prop`` is the Kintone field (the collection for a lambda
    variable, the complex property for ``member``); ``table`` the subtable holding the field;
    ``row_exact`` whether a pushed row predicate decides the entity (lambdas, not row sets)."""

    prop: Property
    type: _Type
    member: str | None = None
    element: bool = False
    table: str | None = None
    row_exact: bool = True


@dataclass(frozen=True)
class _Scope:
    entity_set: EntitySet
    variables: Mapping[str, _Path] = field(default_factory=dict)
    row_table: str | None = None  # inside ``Subtable/any(...)``: the subtable

    def bind(self, name: str, collection: _Path) -> _Scope:
        table = collection.prop.kintone_code if collection.prop.row_type else self.row_table
        return _Scope(self.entity_set, {**self.variables, name: collection}, table)


def _resolve(node: ast._Node, scope: _Scope) -> _Path | None:
    """The path ``node`` denotes, ``None`` if it is not a path; 400 for unknown names."""
    if isinstance(node, ast.Identifier):
        if node.name in scope.variables:
            collection = scope.variables[node.name]
            return replace(collection, type=_Type(collection.type.name), element=True)
        return _property(node.name, scope.entity_set)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.owner, scope)
        return None if owner is None else _member(owner, node.attr)
    return None


def _property(name: str, entity_set: EntitySet) -> _Path | None:
    try:
        prop = entity_set.property(name)
    except UnknownName:
        if name in SPECIAL_NUMBERS:
            return None
        raise bad_request(f"The type {entity_set.entity_type.name} has no property '{name}'.",
                          name) from None
    on_row = entity_set.kind == "subtable" and prop.kintone_type not in (edm.ID, edm.ROW_ID)
    return _Path(prop, _Type(prop.edm_type, prop.collection),
                 table=entity_set.subtable_code if on_row else None, row_exact=not on_row)


def _member(owner: _Path, name: str) -> _Path:
    if owner.type.collection or owner.type.primitive:
        raise bad_request(f"'{name}' cannot follow a value of type {owner.type}.", name)
    row_type = owner.prop.row_type
    if row_type is not None and owner.element:
        if not row_type.has_property(name):
            raise bad_request(f"The type {row_type.name} has no property '{name}'.", name)
        inner = row_type.property(name)
        return _Path(inner, _Type(inner.edm_type, inner.collection), table=owner.prop.kintone_code)
    members = _MEMBERS.get(owner.type.name, {})
    if name not in members:
        raise bad_request(f"The type {owner.type.name} has no property '{name}'.", name)
    return replace(owner, type=_Type(members[name]), member=name)
