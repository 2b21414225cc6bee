"""Names and types: what a property path in a filter denotes (400 for unknown names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from odata_query import ast

from gateway.model import edm
from gateway.model.schema import EntitySet, Property, UnknownName

from ..errors import bad_request
from ..evaluate import SPECIAL_NUMBERS
from ..tree import Node, Visitor

NUMERIC = frozenset({edm.INT64, edm.DECIMAL, "Edm.Int32", "Edm.Double"})
NULL = "null"
# Members of the shared complex types (the model keeps them in its static ComplexTypes).
_MEMBERS: Mapping[str, Mapping[str, str]] = {
    edm.ENTITY: {"Code": edm.STRING, "Name": edm.STRING},
    edm.FILE: {"ContentType": edm.STRING, "FileKey": edm.STRING, "Name": edm.STRING,
               "Size": edm.INT64},
    edm.MENTION: {"Code": edm.STRING, "Type": edm.STRING},
}


@dataclass(frozen=True)
class ValueType:
    name: str  # EDM type name, or "null" for the null literal
    collection: bool = False

    @property
    def primitive(self) -> bool:
        return self.name.startswith("Edm.") and not self.collection

    def __str__(self) -> str:
        return f"Collection({self.name})" if self.collection else self.name


@dataclass(frozen=True)
class Path:
    """What a property path denotes. ``prop`` is the Kintone field (the collection for a lambda
    variable, the complex property for ``member``); ``table`` the subtable holding the field;
    ``row_exact`` whether a pushed row predicate decides the entity (lambdas, not row sets)."""

    prop: Property
    type: ValueType
    member: str | None = None
    element: bool = False
    table: str | None = None
    row_exact: bool = True


@dataclass(frozen=True)
class Scope:
    entity_set: EntitySet
    variables: Mapping[str, Path] = field(default_factory=dict)
    row_table: str | None = None  # inside ``Subtable/any(...)``: the subtable

    def bind(self, name: str, collection: Path) -> Scope:
        table = collection.prop.kintone_code if collection.prop.row_type else self.row_table
        return Scope(self.entity_set, {**self.variables, name: collection}, table)


def resolve(node: Node, scope: Scope) -> Path | None:
    """The path ``node`` denotes, ``None`` if it is not a path; 400 for unknown names."""
    return _Resolver(scope).visit(node)


class _Resolver(Visitor):
    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def generic_visit(self, node: Node) -> None:
        return None

    def visit_Identifier(self, node: ast.Identifier) -> Path | None:
        if node.name in self._scope.variables:
            collection = self._scope.variables[node.name]
            return replace(collection, type=ValueType(collection.type.name), element=True)
        return _property(node.name, self._scope.entity_set)

    def visit_Attribute(self, node: ast.Attribute) -> Path | None:
        owner = self.visit(node.owner)
        return None if owner is None else _member(owner, node.attr)


def _property(name: str, entity_set: EntitySet) -> Path | None:
    try:
        prop = entity_set.property(name)
    except UnknownName:
        if name in SPECIAL_NUMBERS:
            return None
        raise bad_request(f"The type {entity_set.entity_type.name} has no property '{name}'.",
                          name) from None
    on_row = entity_set.kind == "subtable" and prop.kintone_type not in (edm.ID, edm.ROW_ID)
    return Path(prop, ValueType(prop.edm_type, prop.collection),
                 table=entity_set.subtable_code if on_row else None, row_exact=not on_row)


def _member(owner: Path, name: str) -> Path:
    if owner.type.collection or owner.type.primitive:
        raise bad_request(f"'{name}' cannot follow a value of type {owner.type}.", name)
    row_type = owner.prop.row_type
    if row_type is not None and owner.element:
        if not row_type.has_property(name):
            raise bad_request(f"The type {row_type.name} has no property '{name}'.", name)
        inner = row_type.property(name)
        return Path(inner, ValueType(inner.edm_type, inner.collection),
                    table=owner.prop.kintone_code)
    members = _MEMBERS.get(owner.type.name, {})
    if name not in members:
        raise bad_request(f"The type {owner.type.name} has no property '{name}'.", name)
    return replace(owner, type=ValueType(members[name]), member=name)
