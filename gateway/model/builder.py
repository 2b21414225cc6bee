"""Builds the ``Model`` from plain Kintone JSON; never calls Kintone itself.

Naming order, which is what keeps names stable when apps and fields are added:

1. Entity-set and type names share one case-insensitive scope with the reserved names. Valid
   aliases are claimed first; then apps in ascending id order, so an older app keeps its name and
   a newer namesake gets ``_<app id>``. App ids are unique across the domain (spaces and guest
   spaces included), so namesakes of different spaces are told apart the same way, and no name
   depends on its app's space. Then subtable sets ``<App>_<Subtable>`` and their row
   types ``<App>_<Subtable>_Row``.
2. Within a type, the fixed keys (``Id``, ``Revision``; ``RecordId``, ``RowId``) come first, then
   valid aliases, then field codes that are valid identifiers, then sanitised codes, each group in
   code order; a clash gets ``_2``, ``_3`` ... (a field coded ``Id`` becomes ``Id_2``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from . import edm
from .naming import (
    RESERVED_PROPERTY_NAMES,
    RESERVED_SET_NAMES,
    NameRegistry,
    from_code,
    from_label,
    is_identifier,
)
from .navigation import lookup_link, record_navigation, reference_link, subtable_link
from .schema import (
    ComplexType,
    EntitySet,
    EntityType,
    FormField,
    Model,
    NavigationProperty,
    Property,
)

log = logging.getLogger(__name__)

AppKey = int | str  # an app id (as int or digits) or an app code


@dataclass(frozen=True)
class Aliases:
    """Names chosen in the settings; they win over derived names when valid and free."""

    entity_sets: Mapping[AppKey, str] = field(default_factory=dict)
    properties: Mapping[tuple[AppKey, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class _App:
    id: int
    code: str
    name: str
    fields: Mapping[str, Mapping[str, Any]]

    def setting_keys(self) -> tuple[AppKey, ...]:
        """The keys settings may use for this app, id first."""
        return (self.id, str(self.id), *((self.code,) if self.code else ()))


def build_model(
    apps: Iterable[Mapping[str, Any]],
    fields: Mapping[AppKey, Mapping[str, Mapping[str, Any]]],
    aliases: Aliases | None = None,
) -> Model:
    """The model exposing every app in ``fields``.

    ``apps`` are app objects as apps.json/app.json return them (``appId``, ``code``, ``name``);
    ``fields`` maps an app id to the ``properties`` of its app/form/fields.json. Apps without
    fields are not exposed (the ``Apps`` set still lists them at request time).
    """
    aliases = aliases or Aliases()
    exposed = _exposed_apps(apps, fields)
    names = NameRegistry(RESERVED_SET_NAMES)
    set_names = _claim_set_names(exposed, aliases, names)
    sets: dict[str, EntitySet] = {s.name: s for s in _static_sets()}
    complex_types = {t.name: t for t in _STATIC_COMPLEX_TYPES}
    form_fields: list[FormField] = []
    app_codes = {app.code: app.id for app in exposed if app.code}
    for app in exposed:
        built = _AppBuilder(app, set_names, app_codes, aliases, names).build()
        sets.update((s.name, s) for s in built.sets)
        complex_types.update((t.name, t) for t in built.row_types)
        form_fields.extend(built.form_fields)
    return Model(sets, complex_types, tuple(form_fields))


def _exposed_apps(
    apps: Iterable[Mapping[str, Any]], fields: Mapping[AppKey, Mapping[str, Mapping[str, Any]]]
) -> list[_App]:
    by_id = {int(app_id): props for app_id, props in fields.items()}
    known = {int(app["appId"]): app for app in apps}
    unknown = sorted(by_id.keys() - known.keys())
    if unknown:
        raise ValueError(f"fields given for apps not in the app list: {unknown}")
    return [
        _App(app_id, known[app_id].get("code") or "", known[app_id].get("name") or "", props)
        for app_id, props in sorted(by_id.items())
    ]


def _claim_set_names(
    apps: list[_App], aliases: Aliases, names: NameRegistry
) -> dict[int, str]:
    chosen: dict[int, str] = {}
    for app in apps:
        alias = _first(aliases.entity_sets, app.setting_keys())
        if alias is not None and _claim_alias(names, alias, f"app {app.id}"):
            chosen[app.id] = alias
    rest = [app for app in apps if app.id not in chosen]
    return chosen | names.claim_all((app.id, _derived_set_name(app), str(app.id)) for app in rest)


def _derived_set_name(app: _App) -> str:
    fallback = f"App{app.id}"
    return from_code(app.code, fallback) if app.code else from_label(app.name, fallback)


def _first(mapping: Mapping[Any, str], keys: Iterable[Any]) -> str | None:
    return next((mapping[key] for key in keys if key in mapping), None)


def _claim_alias(names: NameRegistry, alias: str, owner: str) -> bool:
    if names.claim_exact(alias):
        return True
    log.warning("alias %r for %s ignored: not a valid OData identifier or already used", alias,
                owner)
    return False


def _exposes(props: Mapping[str, Any]) -> bool:
    """Whether a field carries a value in records."""
    kind = props.get("type") or ""
    if kind in edm.FEATURE_TYPES and props.get("enabled") is False:
        return False
    return kind == edm.SUBTABLE or edm.edm_kind(kind, props) is not None


@dataclass(frozen=True)
class _Subtable:
    code: str
    props: Mapping[str, Any]
    inner_names: Mapping[str, str]
    row_type: ComplexType
    entity_set: EntitySet


@dataclass(frozen=True)
class _BuiltApp:
    sets: tuple[EntitySet, ...]
    row_types: tuple[ComplexType, ...]
    form_fields: tuple[FormField, ...]


class _AppBuilder:
    """The record set, subtable sets and row types of one app."""

    def __init__(self, app: _App, set_names: Mapping[int, str], app_codes: Mapping[str, int],
                 aliases: Aliases, names: NameRegistry):
        self.app = app
        self.set_name = set_names[app.id]
        self.set_names = set_names
        self.app_codes = app_codes
        self.aliases = aliases
        self.names = names

    def build(self) -> _BuiltApp:
        top = {code: p for code, p in self.app.fields.items() if _exposes(p)}
        prop_names = self._property_names(top, _RECORD_KEYS)
        subtables = {
            code: self._subtable(code, prop_names[code], props)
            for code, props in top.items()
            if props.get("type") == edm.SUBTABLE
        }
        properties = [
            _subtable_property(prop_names[code], code, props, subtables[code].row_type)
            if code in subtables
            else _field_property(prop_names[code], code, props)
            for code, props in top.items()
        ]
        navigation = self._navigation(top, prop_names, subtables)
        record_type = EntityType(self.set_name, (_ID, _REVISION, *properties), key=("Id",),
                                 navigation=navigation)
        record_set = EntitySet(self.set_name, record_type, "records", **self._app_info())
        return _BuiltApp(
            sets=(record_set, *(sub.entity_set for sub in subtables.values())),
            row_types=tuple(sub.row_type for sub in subtables.values()),
            form_fields=tuple(self._form_fields(prop_names, subtables)),
        )

    def _navigation(self, top: Mapping[str, Mapping[str, Any]], prop_names: Mapping[str, str],
                    subtables: Mapping[str, _Subtable]) -> tuple[NavigationProperty, ...]:
        links = []
        for code, props in top.items():
            if code in subtables:
                links.append(subtable_link(prop_names[code], code, subtables[code].entity_set.name))
            elif "lookup" in props:
                link = lookup_link(prop_names[code], code, props, self.set_names, self.app_codes)
                links.extend([link] if link else [])
        for code, props in self.app.fields.items():
            if props.get("type") == edm.REFERENCE_TABLE:
                link = reference_link(code, props, prop_names, self.set_names, self.app_codes)
                links.extend([link] if link else [])
        return record_navigation([*_RECORD_KEYS, *prop_names.values()], links)

    def _app_info(self) -> dict[str, Any]:
        return {"app_id": self.app.id, "app_code": self.app.code or None,
                "app_name": self.app.name}

    def _property_names(
        self, fields: Mapping[str, Mapping[str, Any]], fixed: frozenset[str]
    ) -> dict[str, str]:
        registry = NameRegistry(RESERVED_PROPERTY_NAMES | fixed)
        chosen: dict[str, str] = {}
        app_keys = self.app.setting_keys()
        for code in sorted(fields):
            alias = _first(self.aliases.properties, ((key, code) for key in app_keys))
            if alias is not None and _claim_alias(registry, alias, f"field {code!r}"):
                chosen[code] = alias
        # Valid codes before sanitised ones, so "a・b" can never take the name of a real "a_b".
        rest = sorted(set(fields) - chosen.keys(), key=lambda c: (not is_identifier(c), c))
        return chosen | registry.claim_all((code, from_code(code), None) for code in rest)

    def _subtable(self, code: str, prop_name: str, props: Mapping[str, Any]) -> _Subtable:
        """Claims the subtable's set and row type names and builds both."""
        inner = {c: p for c, p in (props.get("fields") or {}).items() if _exposes(p)}
        inner_names = self._property_names(inner, _ROW_KEYS)
        set_name = self.names.claim(f"{self.set_name}_{prop_name}")
        row_type_name = self.names.claim(f"{set_name}_Row")
        inner_props = tuple(_field_property(inner_names[c], c, p) for c, p in inner.items())
        flat_type = EntityType(
            set_name, (_RECORD_ID, _ROW_ID, *inner_props), key=("RecordId", "RowId")
        )
        entity_set = EntitySet(
            set_name, flat_type, "subtable", subtable_code=code, parent=self.set_name,
            **self._app_info(),
        )
        row_type = ComplexType(row_type_name, (_ROW_ID, *inner_props))
        return _Subtable(code, props, inner_names, row_type, entity_set)

    def _form_fields(
        self, prop_names: Mapping[str, str], subtables: Mapping[str, _Subtable]
    ) -> Iterator[FormField]:
        for code, props in self.app.fields.items():
            yield self._form_field(code, props, None, self.set_name, prop_names.get(code))
            if code in subtables:
                yield from self._inner_form_fields(subtables[code])

    def _inner_form_fields(self, sub: _Subtable) -> Iterator[FormField]:
        for code, props in (sub.props.get("fields") or {}).items():
            name = sub.inner_names.get(code)
            yield self._form_field(code, props, sub.code, sub.entity_set.name, name)

    def _form_field(
        self, code: str, props: Mapping[str, Any], subtable: str | None, entity_set: str,
        name: str | None,
    ) -> FormField:
        return FormField(
            app_id=self.app.id, code=code, label=props.get("label") or "",
            type=props.get("type") or "", required=bool(props.get("required")),
            unique=bool(props.get("unique")), subtable=subtable,
            entity_set=entity_set if name else None, property=name,
        )


def _field_property(name: str, code: str, props: Mapping[str, Any]) -> Property:
    kind = edm.edm_kind(props["type"], props)
    assert kind is not None  # _exposes() filtered the rest
    return Property(
        name=name, edm_type=kind.edm_type, collection=kind.collection,
        nullable=not kind.collection, kintone_code=code, kintone_type=props["type"],
        label=props.get("label"), required=bool(props.get("required")),
        unique=bool(props.get("unique")), lookup="lookup" in props,
        props=MappingProxyType(dict(props)),
    )


def _subtable_property(
    name: str, code: str, props: Mapping[str, Any], row_type: ComplexType
) -> Property:
    # The inner fields' properties live on the row type; keeping them twice invites drift.
    outer = {key: value for key, value in props.items() if key != "fields"}
    return Property(
        name=name, edm_type=row_type.qualified_name, collection=True, nullable=False,
        kintone_code=code, kintone_type=edm.SUBTABLE, label=props.get("label"),
        row_type=row_type, props=MappingProxyType(outer),
    )


# Keys and pseudo-fields. Non-nullable: every record and row has them.
_ID = Property("Id", edm.INT64, "$id", edm.ID, nullable=False, label="Record ID")
_REVISION = Property("Revision", edm.INT64, "$revision", edm.REVISION, nullable=False,
                     label="Revision")
_RECORD_ID = Property("RecordId", edm.INT64, "$id", edm.ID, nullable=False, label="Record ID")
_ROW_ID = Property("RowId", edm.INT64, None, edm.ROW_ID, nullable=False, label="Row ID")
_RECORD_KEYS = frozenset({"Id", "Revision"})
_ROW_KEYS = frozenset({"RecordId", "RowId"})


def _static(name: str, source: str | None, edm_type: str = edm.STRING, **kw: Any) -> Property:
    """A property of a static set; ``source`` is the key in the Kintone JSON it comes from."""
    return Property(name, edm_type, kintone_code=source, **kw)


_STATIC_COMPLEX_TYPES = (
    ComplexType("Entity", (_static("Code", "code"), _static("Name", "name"))),
    ComplexType("File", (
        _static("ContentType", "contentType"), _static("FileKey", "fileKey"),
        _static("Name", "name"), _static("Size", "size", edm.INT64),
    )),
    ComplexType("Mention", (_static("Code", "code"), _static("Type", "type"))),
)

_NOT_NULL: dict[str, Any] = {"nullable": False}

_APP_TYPE = EntityType("App", (
    _static("Id", "appId", edm.INT64, **_NOT_NULL), _static("Code", "code"),
    _static("Name", "name"), _static("Description", "description"),
    _static("SpaceId", "spaceId", edm.INT64), _static("ThreadId", "threadId", edm.INT64),
    _static("CreatedAt", "createdAt", edm.DATETIME_OFFSET),
    _static("CreatorCode", "creator.code"), _static("CreatorName", "creator.name"),
    _static("ModifiedAt", "modifiedAt", edm.DATETIME_OFFSET),
    _static("ModifierCode", "modifier.code"), _static("ModifierName", "modifier.name"),
), key=("Id",))

_COMMENT_TYPE = EntityType("Comment", (
    _static("AppId", None, edm.INT64, **_NOT_NULL),
    _static("RecordId", None, edm.INT64, **_NOT_NULL),
    _static("Id", "id", edm.INT64, **_NOT_NULL), _static("Text", "text"),
    _static("CreatorCode", "creator.code"), _static("CreatorName", "creator.name"),
    _static("CreatedAt", "createdAt", edm.DATETIME_OFFSET),
    _static("Mentions", "mentions", edm.MENTION, collection=True, nullable=False),
), key=("AppId", "RecordId", "Id"))

_FIELD_TYPE = EntityType("Field", (
    _static("AppId", None, edm.INT64, **_NOT_NULL), _static("Code", None, **_NOT_NULL),
    _static("Label", None), _static("Type", None),
    _static("Required", None, edm.BOOLEAN, **_NOT_NULL),
    _static("Unique", None, edm.BOOLEAN, **_NOT_NULL),
    _static("Subtable", None), _static("EntitySet", None), _static("Property", None),
), key=("AppId", "Code"))


def _static_sets() -> tuple[EntitySet, ...]:
    return (
        EntitySet("Apps", _APP_TYPE, "apps"),
        EntitySet("Comments", _COMMENT_TYPE, "comments"),
        EntitySet("Fields", _FIELD_TYPE, "fields"),
    )
