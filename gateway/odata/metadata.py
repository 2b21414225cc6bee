"""The service's schema: CSDL XML at ``$metadata``, CSDL JSON when asked, the service document.

Power BI, Excel and Tableau read only the XML form. Output is deterministic (types and sets
sorted by name, properties in model order) so that the document can be snapshot-tested and
clients that cache it see no spurious changes.

Annotations keep what the OData names lose: each property's Kintone field code, type and label,
each set's app id and code. The label uses ``Core.Description``; the rest uses terms declared
in the ``Kintone`` schema itself, so the document is self-contained valid CSDL.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gateway.model import (
    ComplexType,
    EntitySet,
    EntityType,
    Model,
    NavigationProperty,
    Property,
    edm,
)

from .media import MetadataLevel

EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"
CONTAINER = "Container"
_VOCABULARY_BASE = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies"
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_STATIC_DESCRIPTIONS = {
    "apps": "The Kintone apps, one row per app",
    "comments": "Comments on the records of the exposed apps",
    "fields": "The form fields of the exposed apps and the properties that show them",
}


@dataclass(frozen=True)
class Vocabulary:
    namespace: str
    alias: str

    def uri(self, extension: str) -> str:
        return f"{_VOCABULARY_BASE}/{self.namespace}.{extension}"


CORE = Vocabulary("Org.OData.Core.V1", "Core")
CAPABILITIES = Vocabulary("Org.OData.Capabilities.V1", "Capabilities")
VOCABULARIES = (CORE, CAPABILITIES)


@dataclass(frozen=True)
class Term:
    """An annotation term the gateway defines in its own schema."""

    name: str
    type: str
    applies_to: str
    description: str


TERMS = (
    Term("FieldCode", edm.STRING, "Property",
         "The code of the Kintone field (or pseudo-field such as $id) the property shows"),
    Term("FieldType", edm.STRING, "Property",
         "The Kintone field type, such as NUMBER, SUBTABLE or __ID__"),
    Term("AppId", edm.INT64, "EntitySet", "The id of the Kintone app the set reads"),
    Term("AppCode", edm.STRING, "EntitySet", "The app code of the Kintone app the set reads"),
    Term("SubtableCode", edm.STRING, "EntitySet",
         "The field code of the Kintone subtable whose rows the set lists"),
)
# Schema children share one name scope with the entity types (named after apps): the model's
# naming must never hand these out, or the document would define a name twice.
RESERVED_SCHEMA_NAMES = frozenset({CONTAINER, *(term.name for term in TERMS)})

@dataclass(frozen=True)
class PropertyPaths:
    """A collection of ``Edm.PropertyPath`` values (``NonSortableProperties`` ...)."""

    paths: tuple[str, ...]


AnnotationValue = str | bool | int | tuple[str, ...] | Mapping[str, bool | PropertyPaths]


@dataclass(frozen=True)
class Annotation:
    """A term applied to a model element; records carry Boolean or property-path properties."""

    term: str
    value: AnnotationValue


@dataclass(frozen=True)
class Capabilities:
    """What the service advertises beyond the fixed facts below.

    ``filter_functions`` lists the canonical functions ``$filter`` accepts; left empty, the
    ``Capabilities.FilterFunctions`` annotation is left out (clients may then try any).
    """

    filter_functions: tuple[str, ...] = ()
    # What the service restricts, by entity set name and by (type name, property name): the
    # sorting and filtering Kintone allows, the values it computes (see ``web.capabilities``).
    set_annotations: Mapping[str, tuple[Annotation, ...]] = field(default_factory=dict)
    property_annotations: Mapping[tuple[str, str], tuple[Annotation, ...]] = field(
        default_factory=dict)

    def of_set(self, entity_set: EntitySet) -> tuple[Annotation, ...]:
        return self.set_annotations.get(entity_set.name, ())

    def of_property(self, structured: ComplexType | EntityType, prop: Property
                    ) -> tuple[Annotation, ...]:
        return self.property_annotations.get((structured.name, prop.name), ())


# True of every set: what ``options.py`` implements and what it refuses with 501. $filter and
# $orderby are left unsaid: the vocabulary presumes them, and saying so adds bulk to every set.
_SET_CAPABILITIES = (
    Annotation("Capabilities.CountRestrictions", {"Countable": True}),
    Annotation("Capabilities.TopSupported", True),
    Annotation("Capabilities.SkipSupported", True),
    Annotation("Capabilities.SelectSupport", {"Supported": True}),
    Annotation("Capabilities.SearchRestrictions", {"Searchable": False}),
)


# --- What is annotated with what (shared by the XML and JSON forms) ---------------------------

def property_annotations(prop: Property, namespace: str = edm.NAMESPACE) -> list[Annotation]:
    annotations = []
    if prop.label:
        annotations.append(Annotation("Core.Description", prop.label))
    # Static sets name a JSON key in `kintone_code` but have no field type: not a field code.
    if prop.kintone_code is not None and prop.kintone_type is not None:
        annotations.append(Annotation(f"{namespace}.FieldCode", prop.kintone_code))
        annotations.append(Annotation(f"{namespace}.FieldType", prop.kintone_type))
    return annotations


def entity_set_annotations(model: Model, entity_set: EntitySet) -> list[Annotation]:
    ns = model.namespace
    annotations = [Annotation("Core.Description", _set_description(model, entity_set))]
    if entity_set.app_id is not None:
        annotations.append(Annotation(f"{ns}.AppId", entity_set.app_id))
    if entity_set.app_code:
        annotations.append(Annotation(f"{ns}.AppCode", entity_set.app_code))
    if entity_set.subtable_code is not None:
        annotations.append(Annotation(f"{ns}.SubtableCode", entity_set.subtable_code))
    return [*annotations, *_SET_CAPABILITIES, _expand_restrictions(model, entity_set)]


def container_annotations(capabilities: Capabilities) -> list[Annotation]:
    annotations = [
        Annotation("Core.ODataVersions", "4.0"),
        Annotation("Capabilities.BatchSupported", True),  # JSON and multipart/mixed
    ]
    if capabilities.filter_functions:
        functions = tuple(sorted(set(capabilities.filter_functions)))
        annotations.append(Annotation("Capabilities.FilterFunctions", functions))
    return annotations


def _set_description(model: Model, entity_set: EntitySet) -> str:
    if entity_set.kind in _STATIC_DESCRIPTIONS:
        return _STATIC_DESCRIPTIONS[entity_set.kind]
    app = entity_set.app_name or f"App {entity_set.app_id}"
    if entity_set.parent is None or entity_set.subtable_code is None:
        return app
    parent = model.entity_set(entity_set.parent)
    label = parent.property_for_code(entity_set.subtable_code).label
    return f"{app}: {label or entity_set.subtable_code}"


def _facets(prop: Property) -> dict[str, Any]:
    """Type facets beyond Type and Nullable, as ``{facet: value}``."""
    if prop.edm_type == edm.DECIMAL:
        # Without it a Decimal has scale 0, i.e. would be an integer.
        return {"Scale": "variable"}
    if prop.edm_type == edm.DATETIME_OFFSET:
        # payload.py writes milliseconds when a timestamp has any (apps' createdAt).
        return {"Precision": 3}
    return {}


# --- Navigation properties (shared by the XML and JSON forms) ------------------------------

def _navigation(model: Model, entity_type: EntityType) -> list[NavigationProperty]:
    """The navigation properties of a type that lead to a set of ``model`` (a model narrowed
    to one caller's sets keeps its types whole)."""
    return [nav for nav in entity_type.navigation if nav.target in model.entity_sets]


def _expand_restrictions(model: Model, entity_set: EntitySet) -> Annotation:
    expandable = bool(_navigation(model, entity_set.entity_type))
    return Annotation("Capabilities.ExpandRestrictions", {"Expandable": expandable})


def _navigation_type(model: Model, nav: NavigationProperty) -> str:
    target = model.entity_set(nav.target).entity_type.qualified_name
    return f"Collection({target})" if nav.collection else target


def _xml_navigation(element: ET.Element, model: Model, entity_type: EntityType) -> None:
    for nav in _navigation(model, entity_type):
        attributes = {"Name": nav.name, "Type": _navigation_type(model, nav)}
        if not nav.collection:
            attributes["Nullable"] = "true"
        ET.SubElement(element, "NavigationProperty", attributes)


def _xml_bindings(element: ET.Element, model: Model, entity_set: EntitySet) -> None:
    for nav in _navigation(model, entity_set.entity_type):
        ET.SubElement(element, "NavigationPropertyBinding",
                      {"Path": nav.name, "Target": nav.target})


def _json_navigation(model: Model, entity_type: EntityType) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for nav in _navigation(model, entity_type):
        body: dict[str, Any] = {"$Kind": "NavigationProperty"}
        if nav.collection:
            body["$Collection"] = True
        else:
            body["$Nullable"] = True
        body["$Type"] = model.entity_set(nav.target).entity_type.qualified_name
        properties[nav.name] = body
    return properties


def _json_bindings(model: Model, entity_set: EntitySet) -> dict[str, Any]:
    bindings = {nav.name: nav.target for nav in _navigation(model, entity_set.entity_type)}
    return {"$NavigationPropertyBinding": bindings} if bindings else {}


# --- CSDL XML --------------------------------------------------------------------------------

def csdl_xml(model: Model, capabilities: Capabilities = Capabilities()) -> str:
    """The EDMX 4.0 document served at ``$metadata``."""
    root = ET.Element("edmx:Edmx", {"xmlns:edmx": EDMX_NS, "Version": "4.0"})
    for vocabulary in VOCABULARIES:
        reference = ET.SubElement(root, "edmx:Reference", {"Uri": vocabulary.uri("xml")})
        ET.SubElement(reference, "edmx:Include",
                      {"Namespace": vocabulary.namespace, "Alias": vocabulary.alias})
    services = ET.SubElement(root, "edmx:DataServices")
    schema = ET.SubElement(services, "Schema", {"xmlns": EDM_NS, "Namespace": model.namespace})
    for term in TERMS:
        _xml_term(schema, term)
    for complex_type in _by_name(model.complex_types.values()):
        _xml_structured(schema, "ComplexType", complex_type, model.namespace, capabilities)
    for entity_type in _by_name(model.entity_types):
        _xml_structured(schema, "EntityType", entity_type, model.namespace, capabilities)
        _xml_navigation(schema[-1], model, entity_type)
    _xml_container(schema, model, capabilities)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _xml_term(schema: ET.Element, term: Term) -> None:
    element = ET.SubElement(
        schema, "Term", {"Name": term.name, "Type": term.type, "AppliesTo": term.applies_to}
    )
    _xml_annotations(element, [Annotation("Core.Description", term.description)])


def _xml_structured(
    schema: ET.Element, tag: str, structured: ComplexType | EntityType, namespace: str,
    capabilities: Capabilities,
) -> None:
    element = ET.SubElement(schema, tag, {"Name": structured.name})
    if isinstance(structured, EntityType):
        key = ET.SubElement(element, "Key")
        for name in structured.key:
            ET.SubElement(key, "PropertyRef", {"Name": name})
    for prop in structured.properties:
        attributes = {"Name": prop.name, "Type": prop.type_name}
        if not prop.nullable:
            attributes["Nullable"] = "false"
        attributes.update((name, str(value)) for name, value in _facets(prop).items())
        _xml_annotations(ET.SubElement(element, "Property", attributes),
                         [*property_annotations(prop, namespace),
                          *capabilities.of_property(structured, prop)])


def _xml_container(schema: ET.Element, model: Model, capabilities: Capabilities) -> None:
    container = ET.SubElement(schema, "EntityContainer", {"Name": CONTAINER})
    for entity_set in _by_name(model.entity_sets.values()):
        element = ET.SubElement(container, "EntitySet", {
            "Name": entity_set.name, "EntityType": entity_set.entity_type.qualified_name,
        })
        _xml_bindings(element, model, entity_set)
        _xml_annotations(element, [*entity_set_annotations(model, entity_set),
                                   *capabilities.of_set(entity_set)])
    _xml_annotations(container, container_annotations(capabilities))


def _xml_annotations(parent: ET.Element, annotations: Iterable[Annotation]) -> None:
    for annotation in annotations:
        element = ET.SubElement(parent, "Annotation", {"Term": annotation.term})
        value = annotation.value
        if isinstance(value, tuple):
            collection = ET.SubElement(element, "Collection")
            for item in value:
                ET.SubElement(collection, "String").text = _xml_text(item)
        elif isinstance(value, Mapping):
            record = ET.SubElement(element, "Record")
            for name, member in value.items():
                _xml_property_value(record, name, member)
        else:
            element.set(*_xml_constant(value))


def _xml_property_value(record: ET.Element, name: str, value: bool | PropertyPaths) -> None:
    if isinstance(value, PropertyPaths):
        collection = ET.SubElement(ET.SubElement(record, "PropertyValue", {"Property": name}),
                                   "Collection")
        for path in value.paths:
            ET.SubElement(collection, "PropertyPath").text = _xml_text(path)
    else:
        ET.SubElement(record, "PropertyValue", {"Property": name, "Bool": _flag(value)})


def _xml_constant(value: str | bool | int) -> tuple[str, str]:
    if isinstance(value, bool):
        return "Bool", _flag(value)
    if isinstance(value, int):
        return "Int", str(value)
    return "String", _xml_text(value)


def _xml_text(text: str) -> str:
    """``text`` without the control characters XML 1.0 forbids (ElementTree escapes the rest)."""
    return _NOT_XML.sub("\ufffd", text)


# --- CSDL JSON -------------------------------------------------------------------------------

def csdl_json(model: Model, capabilities: Capabilities = Capabilities()) -> dict[str, Any]:
    """The CSDL JSON 4.01 document, for clients that ask ``$metadata`` for JSON."""
    ns = model.namespace
    schema: dict[str, Any] = {term.name: _json_term(term) for term in TERMS}
    for complex_type in _by_name(model.complex_types.values()):
        schema[complex_type.name] = {
            "$Kind": "ComplexType", **_json_properties(complex_type, ns, capabilities)}
    for entity_type in _by_name(model.entity_types):
        schema[entity_type.name] = {
            "$Kind": "EntityType", "$Key": list(entity_type.key),
            **_json_properties(entity_type, ns, capabilities),
            **_json_navigation(model, entity_type),
        }
    container: dict[str, Any] = {
        "$Kind": "EntityContainer", **_json_annotations(container_annotations(capabilities))
    }
    for entity_set in _by_name(model.entity_sets.values()):
        container[entity_set.name] = {
            "$Collection": True, "$Type": entity_set.entity_type.qualified_name,
            **_json_bindings(model, entity_set),
            **_json_annotations([*entity_set_annotations(model, entity_set),
                                 *capabilities.of_set(entity_set)]),
        }
    schema[CONTAINER] = container
    return {
        "$Version": "4.01",
        "$EntityContainer": f"{ns}.{CONTAINER}",
        "$Reference": {
            v.uri("json"): {"$Include": [{"$Namespace": v.namespace, "$Alias": v.alias}]}
            for v in VOCABULARIES
        },
        ns: schema,
    }


def _json_term(term: Term) -> dict[str, Any]:
    body: dict[str, Any] = {"$Kind": "Term"}
    if term.type != edm.STRING:
        body["$Type"] = term.type
    # A Term is nullable unless it says otherwise in XML, not in JSON: say it as the XML does.
    body["$Nullable"] = True
    body["$AppliesTo"] = term.applies_to.split()
    return {**body, **_json_annotations([Annotation("Core.Description", term.description)])}


def _json_properties(structured: ComplexType | EntityType, namespace: str,
                     capabilities: Capabilities) -> dict[str, Any]:
    return {prop.name: {**_json_property(prop, namespace),
                        **_json_annotations(capabilities.of_property(structured, prop))}
            for prop in structured.properties}


def _json_property(prop: Property, namespace: str) -> dict[str, Any]:
    # In CSDL JSON, Edm.String and Nullable=false are the defaults and are left out.
    body: dict[str, Any] = {}
    if prop.collection:
        body["$Collection"] = True
    if prop.edm_type != edm.STRING:
        body["$Type"] = prop.edm_type
    if prop.nullable:
        body["$Nullable"] = True
    body.update((f"${name}", value) for name, value in _facets(prop).items())
    return {**body, **_json_annotations(property_annotations(prop, namespace))}


def _json_annotations(annotations: Iterable[Annotation]) -> dict[str, Any]:
    return {f"@{a.term}": _json_value(a.value) for a in annotations}


def _json_value(value: AnnotationValue | PropertyPaths) -> Any:
    # Typed paths (Edm.PropertyPath) are plain strings in CSDL JSON; the term's type says so.
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, PropertyPaths):
        return list(value.paths)
    if isinstance(value, Mapping):
        return {name: _json_value(item) for name, item in value.items()}
    return value


# --- Service document ------------------------------------------------------------------------

def service_document(
    model: Model, base_url: str, *, metadata: MetadataLevel = "minimal"
) -> dict[str, Any]:
    """The JSON service document at the service root: every entity set, by name.

    ``metadata="none"`` (``odata.metadata=none``) leaves out the context URL.
    """
    document: dict[str, Any] = {}
    if metadata != "none":
        document["@odata.context"] = f"{base_url.rstrip('/')}/$metadata"
    document["value"] = [
        {"name": s.name, "kind": "EntitySet", "url": s.name}
        for s in _by_name(model.entity_sets.values())
    ]
    return document


# --- Shared ----------------------------------------------------------------------------------

Named = TypeVar("Named", ComplexType, EntityType, EntitySet)


def _by_name(items: Iterable[Named]) -> list[Named]:
    return sorted(items, key=lambda item: (item.name.casefold(), item.name))


def _flag(value: bool) -> str:
    return "true" if value else "false"
