"""Kintone records and comments as the OData entities the read side serves, for trigger
answers and notifications."""

from __future__ import annotations

from typing import Any

from ..kintone import Record
from ..model import EntitySet
from ..odata import payload
from ..service.entities import record_entity, static_entity


def record_json(entity_set: EntitySet, record: Record) -> dict[str, Any]:
    names = [prop.name for prop in entity_set.entity_type.properties]
    return payload.entity_json(entity_set, record_entity(entity_set.entity_type, record, names))


def comment_json(comments: EntitySet, app: int, record_id: int, comment: dict) -> dict[str, Any]:
    entity = static_entity(comments.entity_type, comment, {"AppId": app, "RecordId": record_id})
    return payload.entity_json(comments, entity)
