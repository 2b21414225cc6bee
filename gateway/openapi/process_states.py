"""The Status field's values: the states of each app's process (Kintone's ``app/status``),
which ``fields.json`` does not list. Read once per model, for the apps a document shows: the
model cache already decides when the apps are re-read, and a document costs at most one call
per app with a process, as the model itself does."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from ..model import EntitySet, Model, Property
from .schemas import Schema

Process = Callable[[int], Mapping[str, Any]]  # an app's app/status settings


def status_property(entity_set: EntitySet) -> Property | None:
    return next((p for p in entity_set.entity_type.properties if p.kintone_type == "STATUS"),
                None)


def state_names(settings: Mapping[str, Any]) -> list[str]:
    """The states of an enabled process, in their order; none for a disabled one."""
    states = sorted((settings.get("states") or {}).values(), key=lambda s: int(s["index"]))
    return [state["name"] for state in states] if settings.get("enable") else []


def with_states(definition: Schema, entity_set: EntitySet, names: Sequence[str]) -> Schema:
    """``definition`` (a record as read) with its Status field's values as an enum."""
    status = status_property(entity_set)
    if status is not None and names and status.name in definition.get("properties", {}):
        definition["properties"][status.name].update({
            "enum": list(names),
            "x-ms-enum-values": [{"value": n, "displayName": n} for n in names]})
    return definition


class ProcessStates:
    def __init__(self, process: Process | None) -> None:
        self._process = process
        self._lock = threading.Lock()
        # Per model (each narrowed model of the callers' rights too), dropped with it.
        self._states: WeakKeyDictionary[Model, dict[int, list[str]]] = WeakKeyDictionary()

    def of(self, model: Model, sets: Iterable[EntitySet]) -> dict[int, list[str]]:
        """The state names of the apps of ``sets`` that have a process, by app id."""
        wanted = [s.app_id for s in sets if s.app_id is not None and status_property(s)]
        if self._process is None:
            return {}
        with self._lock:
            known = self._states.setdefault(model, {})
            missing = [app for app in wanted if app not in known]
        read = {app: state_names(self._process(app)) for app in missing}
        with self._lock:
            known.update(read)
            return {app: known[app] for app in wanted}
