"""The immutable OData entity model of a Kintone tenant, with the lookups the protocol layer needs.

Every structured type can be searched both ways: by OData property name (what a client sends in
``$select``, ``$filter``, ``$orderby``) and by Kintone field code (what a record contains).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from . import edm

EntitySetKind = Literal["records", "subtable", "apps", "comments", "fields"]
NavigationKind = Literal["comments", "rows", "lookup", "reference"]

_NO_PROPS: Mapping[str, Any] = MappingProxyType({})


class UnknownName(KeyError):
    """A name or Kintone code the model does not define (the protocol layer answers 400/404)."""


@dataclass(frozen=True)
class Property:
    """One structural property.

    ``edm_type`` is the element type (``Edm.String``, ``Kintone.Entity``); ``collection`` says
    whether the property is ``Collection(edm_type)``. ``kintone_code``/``kintone_type`` name the
    Kintone source: a field code (``$id`` for keys), or for the static sets the dotted path in the
    Kintone JSON the value comes from (``creator.code``); ``None`` when there is none (``RowId``,
    ``AppId`` of a comment). ``props`` is the field's form property from fields.json (options,
    unit, lookup ...), a read-only view.
    """

    name: str
    edm_type: str
    kintone_code: str | None = None
    kintone_type: str | None = None
    nullable: bool = True
    label: str | None = None
    collection: bool = False
    required: bool = False
    unique: bool = False
    lookup: bool = False
    # The per-subtable row type of a SUBTABLE property.
    row_type: ComplexType | None = None
    props: Mapping[str, Any] = field(
        default_factory=lambda: _NO_PROPS, compare=False, repr=False
    )

    @property
    def type_name(self) -> str:
        """The CSDL ``Type`` attribute, e.g. ``Collection(Kintone.Entity)``."""
        return f"Collection({self.edm_type})" if self.collection else self.edm_type

    def to_odata(self, value: Any) -> Any:
        """A Kintone read-format value of this property's field as its OData value."""
        if self.row_type is not None:
            return [self.row_type.row_to_odata(row) for row in value or []]
        if self.kintone_type is None:
            raise ValueError(f"property {self.name!r} has no Kintone field type")
        return edm.to_odata(self.kintone_type, value, self.props)


@dataclass(frozen=True)
class _Structured:
    name: str
    properties: tuple[Property, ...]
    _by_name: Mapping[str, Property] = field(init=False, repr=False, compare=False)
    _by_code: Mapping[str, Property] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {prop.name: prop for prop in self.properties}
        if len(by_name) != len(self.properties):
            raise ValueError(f"duplicate property names in {self.name!r}")
        by_code = {p.kintone_code: p for p in self.properties if p.kintone_code is not None}
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))

    @property
    def qualified_name(self) -> str:
        return f"{edm.NAMESPACE}.{self.name}"

    def has_property(self, name: str) -> bool:
        return name in self._by_name

    def property(self, name: str) -> Property:
        """The property called ``name`` (OData names are case-sensitive)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownName(f"{self.name} has no property {name!r}") from None

    def property_for_code(self, kintone_code: str) -> Property:
        """The property showing the Kintone field ``kintone_code``."""
        try:
            return self._by_code[kintone_code]
        except KeyError:
            raise UnknownName(f"{self.name} has no Kintone field {kintone_code!r}") from None

    def name_for_code(self, kintone_code: str) -> str:
        return self.property_for_code(kintone_code).name

    def code_for_name(self, name: str) -> str | None:
        return self.property(name).kintone_code


@dataclass(frozen=True)
class ComplexType(_Structured):
    """A structured value without identity: ``Kintone.Entity``, ``Kintone.File``, subtable rows."""

    def row_to_odata(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A subtable row ``{"id": "3071", "value": {code: {type, value}}}`` as an OData value."""
        cells = row.get("value") or {}
        return {prop.name: _cell(prop, row, cells) for prop in self.properties}


def _cell(prop: Property, row: Mapping[str, Any], cells: Mapping[str, Any]) -> Any:
    if prop.kintone_type == edm.ROW_ID:
        return prop.to_odata(row.get("id"))
    cell = cells.get(prop.kintone_code) if prop.kintone_code else None
    return prop.to_odata((cell or {}).get("value"))


@dataclass(frozen=True)
class NavigationProperty:
    """A way from a record to related entities, for ``$expand`` and ``Set(Id)/Comments``.

    ``target`` is the entity set it leads to. ``source`` names what links them: the subtable's
    field code (``rows``), the lookup field's code (``lookup``; ``related_key`` is the field
    of the target app its value is looked up in), the field whose value a reference table
    matches in the target app's ``related_key`` field (``reference``, with ``condition``, the
    table's own Kintone filter); nothing for ``comments``.
    """

    name: str
    kind: NavigationKind
    target: str
    collection: bool
    source: str | None = None
    related_key: str | None = None
    condition: str | None = None


@dataclass(frozen=True)
class EntityType(_Structured):
    key: tuple[str, ...] = ()
    navigation: tuple[NavigationProperty, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        missing = [name for name in self.key if not self.has_property(name)]
        if not self.key or missing:
            raise ValueError(f"bad key {self.key!r} for {self.name!r}")
        clash = {nav.name for nav in self.navigation} & set(self._by_name)
        if clash:
            raise ValueError(f"navigation properties named as properties: {sorted(clash)}")

    def navigation_property(self, name: str) -> NavigationProperty:
        for nav in self.navigation:
            if nav.name == name:
                return nav
        raise UnknownName(f"{self.name} has no navigation property {name!r}")


@dataclass(frozen=True)
class EntitySet:
    """An entity set; ``app_*`` are set for record and subtable sets, ``subtable_code`` and
    ``parent`` (the app's record set) for subtable sets only."""

    name: str
    entity_type: EntityType
    kind: EntitySetKind
    app_id: int | None = None
    app_code: str | None = None
    app_name: str | None = None
    subtable_code: str | None = None
    parent: str | None = None

    def property(self, name: str) -> Property:
        return self.entity_type.property(name)

    def property_for_code(self, kintone_code: str) -> Property:
        return self.entity_type.property_for_code(kintone_code)

    def name_for_code(self, kintone_code: str) -> str:
        return self.entity_type.name_for_code(kintone_code)


@dataclass(frozen=True)
class FormField:
    """One form field of an exposed app: a row of the ``Fields`` entity set.

    ``entity_set``/``property`` are ``None`` for fields that carry no record value (layout,
    REFERENCE_TABLE, disabled STATUS ...). Inner subtable fields name their subtable set.
    """

    app_id: int
    code: str
    label: str
    type: str
    required: bool
    unique: bool
    subtable: str | None
    entity_set: str | None
    property: str | None

    def to_odata(self) -> dict[str, Any]:
        """The row as the ``Fields`` entity set shows it."""
        return {
            "AppId": self.app_id, "Code": self.code, "Label": self.label, "Type": self.type,
            "Required": self.required, "Unique": self.unique, "Subtable": self.subtable,
            "EntitySet": self.entity_set, "Property": self.property,
        }


@dataclass(frozen=True, eq=False)
class Model:
    """Everything a client can see. Build it with ``gateway.model.build_model``."""

    entity_sets: Mapping[str, EntitySet]
    complex_types: Mapping[str, ComplexType]
    form_fields: tuple[FormField, ...] = ()
    namespace: str = edm.NAMESPACE
    hidden_apps: frozenset[int] = frozenset()  # exposed, but not to the caller (``narrow``)
    _records_by_app: Mapping[int, EntitySet] = field(init=False, repr=False)
    _subtables: Mapping[tuple[int, str], EntitySet] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entity_sets", MappingProxyType(dict(self.entity_sets)))
        object.__setattr__(self, "complex_types", MappingProxyType(dict(self.complex_types)))
        object.__setattr__(self, "form_fields", tuple(self.form_fields))
        sets = self.entity_sets.values()
        records = {s.app_id: s for s in sets if s.kind == "records" and s.app_id is not None}
        subtables = {
            (s.app_id, s.subtable_code): s
            for s in sets
            if s.kind == "subtable" and s.app_id is not None and s.subtable_code is not None
        }
        object.__setattr__(self, "_records_by_app", MappingProxyType(records))
        object.__setattr__(self, "_subtables", MappingProxyType(subtables))

    def entity_set(self, name: str) -> EntitySet:
        try:
            return self.entity_sets[name]
        except KeyError:
            raise UnknownName(f"no entity set {name!r}") from None

    def complex_type(self, name: str) -> ComplexType:
        """A complex type by simple (``Entity``) or qualified (``Kintone.Entity``) name."""
        simple = name.removeprefix(f"{self.namespace}.")
        try:
            return self.complex_types[simple]
        except KeyError:
            raise UnknownName(f"no complex type {name!r}") from None

    def records_set(self, app_id: int) -> EntitySet:
        """The record entity set of an exposed app."""
        try:
            return self._records_by_app[app_id]
        except KeyError:
            raise UnknownName(f"app {app_id} is not exposed") from None

    def subtable_set(self, app_id: int, subtable_code: str) -> EntitySet:
        try:
            return self._subtables[(app_id, subtable_code)]
        except KeyError:
            raise UnknownName(f"app {app_id} has no subtable {subtable_code!r}") from None

    def subtable_sets(self, app_id: int) -> tuple[EntitySet, ...]:
        return tuple(s for (app, _), s in self._subtables.items() if app == app_id)

    @property
    def entity_types(self) -> tuple[EntityType, ...]:
        """Each set's type, once, in entity-set order (each set has its own type)."""
        return tuple(s.entity_type for s in self.entity_sets.values())
