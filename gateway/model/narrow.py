"""A model narrowed to the entity sets one caller may see, for the documents that describe
the service ($metadata, the service document, $oas) and the Apps and Fields sets."""

from __future__ import annotations

from collections.abc import Callable

from .schema import EntitySet, Model


def narrowed(model: Model, visible: Callable[[str], bool]) -> Model:
    """``model`` with only the sets whose name ``visible`` accepts (a subtable set also needs
    its parent), their row types and form fields, and the apps of the others hidden."""
    kept = {name: s for name, s in model.entity_sets.items()
            if visible(name) and (s.parent is None or visible(s.parent))}
    hidden_apps = frozenset(s.app_id for s in model.entity_sets.values()
                            if s.kind == "records" and s.app_id is not None
                            and s.name not in kept) | model.hidden_apps
    row_types = {name: _row_types(s) for name, s in model.entity_sets.items()}
    dropped = set().union(*(types for name, types in row_types.items() if name not in kept))
    dropped -= set().union(*(types for name, types in row_types.items() if name in kept))
    complex_types = {name: t for name, t in model.complex_types.items() if name not in dropped}
    fields = tuple(f for f in model.form_fields if f.app_id not in hidden_apps)
    return Model(kept, complex_types, fields, model.namespace, hidden_apps)


def _row_types(entity_set: EntitySet) -> set[str]:
    return {p.row_type.name for p in entity_set.entity_type.properties
            if p.row_type is not None}
