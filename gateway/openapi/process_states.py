"""The Status field's values and the process actions: the states and actions of each app's
process (Kintone's ``app/status``), which ``fields.json`` does not list. Read once per model,
for the apps a document shows: the model cache already decides when the apps are re-read, and
a document costs at most one call per app with a process, as the model itself does."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from ..model import EntitySet, Model, Property
from .schemas import Schema

Process = Callable[[int], Mapping[str, Any]]  # an app's app/status settings


def status_property(entity_set: EntitySet) -> Property | None:
    return next((p for p in entity_set.entity_type.properties if p.kintone_type == "STATUS"),
                None)


@dataclass(frozen=True)
class Workflow:
    """An app's process: its states and the names of its actions, in their order; none for an
    app without an enabled process."""

    states: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()


def workflow(settings: Mapping[str, Any]) -> Workflow:
    if not settings.get("enable"):
        return Workflow()
    states = sorted((settings.get("states") or {}).values(), key=lambda s: int(s["index"]))
    # Two transitions may share a name (from different states): one action to choose.
    actions = dict.fromkeys(action["name"] for action in settings.get("actions") or ())
    return Workflow(tuple(state["name"] for state in states), tuple(actions))


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
        self._workflows: WeakKeyDictionary[Model, dict[int, Workflow]] = WeakKeyDictionary()

    def of(self, model: Model, sets: Iterable[EntitySet]) -> dict[int, Workflow]:
        """The processes of the apps of ``sets`` that have a Status field, by app id."""
        wanted = [s.app_id for s in sets if s.app_id is not None and status_property(s)]
        if self._process is None:
            return {}
        with self._lock:
            known = self._workflows.setdefault(model, {})
            missing = [app for app in wanted if app not in known]
        read = {app: workflow(self._process(app)) for app in missing}
        with self._lock:
            known.update(read)
            return {app: known[app] for app in wanted}
