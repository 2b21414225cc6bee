"""Record writes by id: ``POST /<Set>`` creates (subtable rows included), ``PATCH /<Set>(<Id>)``
merges the given properties, ``PUT`` replaces (every writable property the body leaves out is
emptied), ``DELETE`` removes. ``If-Match: W/"<revision>"`` makes Kintone check the revision; a
mismatch answers 412. Keys other than ``Id`` are alternate keys: see ``upsert``.
"""

from __future__ import annotations

from functools import partial

from ..kintone.models import RecordRef
from ..model import EntitySet
from ..odata import media
from ..odata.resource import parse_key
from . import ops, upsert, values
from .context import Writes
from .exchange import Reply, WriteRequest
from .planning import Planned, related_apps
from .shaping import written


def plan_create(ctx: Writes, req: WriteRequest, entity_set: EntitySet) -> Planned:
    fmt = req.json_format
    converted = values.to_record(entity_set.entity_type, req.json_object())
    write = ops.AddRecord(_app(entity_set), converted.record,
                          related_apps(entity_set, [converted.record]))
    return Planned(entity_set, write, partial(_finish, ctx, req, entity_set, fmt,
                                              converted.truncated, True))


def plan_entity(ctx: Writes, req: WriteRequest, entity_set: EntitySet, key: str) -> Planned:
    """PATCH, PUT or DELETE of ``<Set>(<key>)``."""
    alternate = upsert.alternate_key(entity_set, key)
    if alternate is not None:
        return upsert.plan(ctx, req, entity_set, alternate)
    record_id = parse_key(key, entity_set.entity_type)["Id"]
    if req.method == "DELETE":
        return Planned(entity_set, ops.DeleteRecord(_app(entity_set), record_id, req.revision()),
                       lambda _: Reply(204))
    fmt = req.json_format
    converted = values.to_record(entity_set.entity_type, req.json_object(),
                                 replace=req.method == "PUT")
    write = ops.UpdateRecord(_app(entity_set), {"id": record_id}, converted.record,
                             req.revision(),
                             related_apps=related_apps(entity_set, [converted.record]))
    return Planned(entity_set, write, partial(_finish, ctx, req, entity_set, fmt,
                                              converted.truncated, False))


def _finish(ctx: Writes, req: WriteRequest, entity_set: EntitySet, fmt: media.JsonFormat,
            truncated: tuple[str, ...], created: bool, ref: RecordRef | None) -> Reply:
    assert ref is not None
    return written(ctx.client, req, entity_set, ref, created=created, fmt=fmt,
                   truncated=truncated)


def _app(entity_set: EntitySet) -> int:
    assert entity_set.app_id is not None  # a record set
    return entity_set.app_id
