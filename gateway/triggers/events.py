"""Kintone's webhook notifications (reference section 17): the five events, the checks a
notification must pass, and the OData-shaped body subscribers receive.

A subscriber gets ``{EventId, Event, EntitySet, AppId, RecordId}`` plus, by event: ``Record``
(the record as the entity set serves it) for added, updated and status changes; ``Comment``
(as ``Comments`` serves it) for a posted comment; ``DeletedBy`` ``{Code, Name}`` and
``DeletedAt`` for a deletion; and Kintone's ``Url`` of the record when it sent one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..model import Model
from .shaping import comment_json, record_json

Carries = Literal["record", "deletion", "comment"]


COMMENTS = "Comments"


@dataclass(frozen=True)
class EventKind:
    kintone: str  # the notification's type
    name: str  # in URLs
    verb: str  # in operationIds
    summary: str
    carries: Carries

    def read_sets(self, entity_set: str) -> tuple[str, ...]:
        """The sets a subscriber must be allowed to GET to receive this event of
        ``entity_set``: comments are read through ``Comments`` too."""
        return (entity_set, COMMENTS) if self.carries == "comment" else (entity_set,)


EVENTS = (
    EventKind("ADD_RECORD", "added", "Added", "When a record is added", "record"),
    EventKind("UPDATE_RECORD", "updated", "Updated", "When a record is updated", "record"),
    EventKind("DELETE_RECORD", "deleted", "Deleted", "When a record is deleted", "deletion"),
    EventKind("ADD_RECORD_COMMENT", "commented", "Commented", "When a comment is posted",
              "comment"),
    EventKind("UPDATE_STATUS", "status", "StatusChanged", "When a record's status changes",
              "record"),
)
BY_NAME = {kind.name: kind for kind in EVENTS}
BY_TYPE = {kind.kintone: kind for kind in EVENTS}


class NotAnEvent(ValueError):
    """A body that is not a Kintone webhook notification this gateway can handle."""


@dataclass(frozen=True)
class Notification:
    """A checked Kintone notification."""

    id: str
    kind: EventKind
    app: int
    record_id: int
    body: Mapping[str, Any]

    @classmethod
    def parse(cls, body: Any) -> Notification:
        if not isinstance(body, Mapping):
            raise NotAnEvent("the body is not a JSON object")
        event_id, kind = body.get("id"), BY_TYPE.get(str(body.get("type")))
        if not isinstance(event_id, str) or not event_id or kind is None:
            raise NotAnEvent("id or type is missing or unknown")
        app = body.get("app")
        return cls(event_id, kind, _number(app.get("id") if isinstance(app, Mapping) else None,
                                           "app.id"),
                   _record_id(kind, body), body)

    def subscriber_body(self, model: Model) -> dict[str, Any]:
        """What subscribers receive (``UnknownName`` when the app is not exposed)."""
        entity_set = model.records_set(self.app)
        out: dict[str, Any] = {"EventId": self.id, "Event": self.kind.kintone,
                               "EntitySet": entity_set.name, "AppId": self.app,
                               "RecordId": self.record_id}
        if self.kind.carries == "record":
            out["Record"] = record_json(entity_set, self.body["record"])
        elif self.kind.carries == "comment":
            out["Comment"] = comment_json(model.entity_set("Comments"), self.app,
                                          self.record_id, self.body["comment"])
        else:
            deleted_by = _object(self.body.get("deletedBy"), "deletedBy")
            out["DeletedBy"] = {"Code": deleted_by.get("code"), "Name": deleted_by.get("name")}
            out["DeletedAt"] = self.body.get("deletedAt")
        if isinstance(self.body.get("url"), str):
            out["Url"] = self.body["url"]
        return out


def _record_id(kind: EventKind, body: Mapping[str, Any]) -> int:
    if kind.carries == "record":
        record = _object(body.get("record"), "record")
        _number(_object(record.get("$revision"), "record.$revision").get("value"),
                "record.$revision")
        return _number(_object(record.get("$id"), "record.$id").get("value"), "record.$id")
    if kind.carries == "comment":
        _number(_object(body.get("comment"), "comment").get("id"), "comment.id")
    return _number(body.get("recordId"), "recordId")


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise NotAnEvent(f"{where} is missing or not an object")
    return value


def _number(value: Any, where: str) -> int:
    # Kintone sends ids as strings of digits.
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).isdigit():
        raise NotAnEvent(f"{where} is missing or not an id")
    return int(value)
