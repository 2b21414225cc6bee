"""What ``$metadata`` says the service restricts (Org.OData.Capabilities.V1, Core.Computed and
Core.Immutable), derived from the rules reads and writes apply so that the two cannot drift.

* Sorting: records sort by the field types Kintone's ``order by`` takes; subtable rows and
  comments come in one fixed order (a prefix of it may be asked for, ascending only); Apps and
  Fields sort by any primitive property.
* Filtering: Comments need ``AppId eq N`` (without any ``$filter`` they are a bounded preview).
* Values: record properties a write cannot set (system fields, calculated fields, lookup copies,
  status) are Computed; a comment's inputs cannot change after it is posted (Immutable).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import ComplexType, EntitySet, EntityType, Model, Property
from ..odata.evaluate import COUNT, FUNCTIONS
from ..odata.metadata import Annotation, Capabilities, PropertyPaths
from ..service.read_plan import sortable
from ..service.reads import COMMENT_ORDER
from ..writes.values import lookup_copies, read_only_reason

SUBTABLE_ORDER = ("RecordId",)
# What POST /Comments takes (writes/comments.py); Kintone has no comment update.
_COMMENT_INPUTS = frozenset({"AppId", "RecordId", "Text", "Mentions"})
_COMPUTED = Annotation("Core.Computed", True)
_IMMUTABLE = Annotation("Core.Immutable", True)

PropertyKey = tuple[str, str]
# The canonical functions $filter evaluates: those of the evaluator and the request-time
# constants folded before it (``Path/$count`` is a path, not a function).
FILTER_FUNCTIONS = tuple(sorted({*FUNCTIONS, "now", "mindatetime", "maxdatetime"} - {COUNT}))


def capabilities(model: Model, filter_functions: tuple[str, ...] = FILTER_FUNCTIONS
                 ) -> Capabilities:
    sets = {s.name: tuple(_set_annotations(s)) for s in model.entity_sets.values()}
    props: dict[PropertyKey, tuple[Annotation, ...]] = {}
    for entity_set in model.entity_sets.values():
        props.update(_property_annotations(entity_set))
    return Capabilities(filter_functions, sets, props)


def _set_annotations(entity_set: EntitySet) -> Iterator[Annotation]:
    names = [prop.name for prop in entity_set.entity_type.properties]
    kind = entity_set.kind
    if kind == "records":
        unsortable = [prop.name for prop in entity_set.entity_type.properties
                      if not sortable(prop)]
        restrictions = _sort_restrictions(unsortable)
    elif kind in ("subtable", "comments"):
        order = SUBTABLE_ORDER if kind == "subtable" else COMMENT_ORDER
        restrictions = _sort_restrictions([name for name in names if name not in order], order)
    else:
        restrictions = _sort_restrictions([prop.name for prop in entity_set.entity_type.properties
                                           if not _primitive(prop)])
    if restrictions.value:
        yield restrictions
    if kind == "comments":
        yield Annotation("Capabilities.FilterRestrictions", {
            "RequiresFilter": True, "RequiredProperties": PropertyPaths(("AppId",))})


def _sort_restrictions(unsortable: list[str], ascending_only: tuple[str, ...] = ()
                       ) -> Annotation:
    record: dict[str, bool | PropertyPaths] = {}
    if ascending_only:
        record["AscendingOnlyProperties"] = PropertyPaths(ascending_only)
    if unsortable:
        record["NonSortableProperties"] = PropertyPaths(tuple(unsortable))
    return Annotation("Capabilities.SortRestrictions", record)


def _property_annotations(entity_set: EntitySet
                          ) -> Iterator[tuple[PropertyKey, tuple[Annotation, ...]]]:
    entity_type = entity_set.entity_type
    if entity_set.kind == "comments":
        for prop in entity_type.properties:
            computed = prop.name not in _COMMENT_INPUTS
            yield (entity_type.name, prop.name), (_COMPUTED if computed else _IMMUTABLE,)
    elif entity_set.kind in ("records", "subtable"):
        copies = lookup_copies(entity_type)
        yield from _computed(entity_type, copies)
        for prop in entity_type.properties:
            if prop.row_type is not None:
                yield from _computed(prop.row_type, copies)


def _computed(structured: EntityType | ComplexType, copies: frozenset[str]
              ) -> Iterator[tuple[PropertyKey, tuple[Annotation, ...]]]:
    for prop in structured.properties:
        if prop.kintone_type is not None and read_only_reason(prop, copies) is not None:
            yield (structured.name, prop.name), (_COMPUTED,)


def _primitive(prop: Property) -> bool:
    return not prop.collection and prop.edm_type.startswith("Edm.")
