"""Which write a request is, from its method and resource path.

Each write asks the security layer whether the caller may use its method on its entity set
(``require``), inside ``$batch`` too. What changes an existing record also needs PATCH (bound
actions, file uploads); an upsert that may create a record also needs POST; a comment needs
its method on the record's set as well as on ``Comments``. Record writes and actions are
*planned* (see ``planning``), so that a ``$batch`` atomicity group can run them in one
bulkRequest; comments, file uploads, ``$bulk`` and ``$batch`` itself are handled directly and
cannot be in a group.
"""

from __future__ import annotations

from ..kintone import KintoneError
from ..model import UnknownName
from ..odata.errors import ODataError, bad_request, not_found
from ..odata.resource import ResourcePath, parse_path
from ..security import require
from . import actions, batch, bulk, comments, files, records
from .context import Writes
from .errors import write_error
from .exchange import Reply, WriteRequest, error_reply
from .planning import ALLOWED, READ_ONLY, Planned, execute, method_not_allowed, record_set

COMMENTS = "Comments"


def answer(ctx: Writes, req: WriteRequest) -> Reply:
    """The reply to a write request, failures included (they are kept for idempotent replays
    and become ``$batch`` responses)."""
    try:
        return reply_to(ctx, req)
    except ODataError as error:
        return error_reply(error)
    except UnknownName as error:
        return error_reply(not_found(str(error.args[0]) if error.args else "Not found."))
    except KintoneError as error:
        return error_reply(write_error(None, error))


def reply_to(ctx: Writes, req: WriteRequest) -> Reply:
    head, _, last = req.path.rpartition("/")
    if last == "$batch":
        return batch.run(ctx, req, answer_in_group=plan)
    if last == "$bulk" and req.method == "POST":
        return bulk.load(ctx, req, _resource(head))
    resource = _resource(req.path)
    if resource.entity_set == COMMENTS:
        require(req.method, COMMENTS)
        return _comments(ctx, req, resource)
    if resource.kind == "property" and req.method == "POST" and not actions.is_action(
            resource.property_name or ""):
        entity_set = record_set(ctx.models(), resource)
        require(req.method, entity_set.name)
        require("PATCH", entity_set.name, ", which attaching a file to a record needs")
        return files.upload(ctx, req, entity_set, resource.key or "",
                            resource.property_name or "")
    return execute(ctx, plan(ctx, req))


def plan(ctx: Writes, req: WriteRequest) -> Planned:
    """The planned record write or action; anything else cannot be planned (400)."""
    resource = _resource(req.path)
    if resource.entity_set == COMMENTS:
        raise bad_request("Comments cannot be written inside an atomicity group (Kintone's "
                          "bulkRequest does not take them).")
    entity_set = record_set(ctx.models(), resource)
    require(req.method, entity_set.name)
    method, kind = req.method, resource.kind
    if kind == "collection" and method == "POST":
        return records.plan_create(ctx, req, entity_set)
    if kind == "entity" and method in ("PATCH", "PUT", "DELETE"):
        return records.plan_entity(ctx, req, entity_set, resource.key or "")
    if kind == "property" and method == "POST" and actions.is_action(
            resource.property_name or ""):
        require("PATCH", entity_set.name, ", which an action changing a record needs")
        return actions.plan_action(req, entity_set, resource.key or "",
                                   resource.property_name or "")
    if kind == "property" and method == "POST":
        raise bad_request("File uploads cannot be part of an atomicity group.")
    raise method_not_allowed(f"{method} is not allowed on this resource.",
                             ALLOWED.get(kind, READ_ONLY))


def _comments(ctx: Writes, req: WriteRequest, resource: ResourcePath) -> Reply:
    entity_set = ctx.models().entity_set(COMMENTS)
    if resource.kind == "collection" and req.method == "POST":
        return comments.create(ctx, req, entity_set)
    if resource.kind == "entity" and req.method == "DELETE":
        return comments.delete(ctx, entity_set, resource.key or "")
    allow = ("GET", "POST") if resource.kind == "collection" else ("GET", "DELETE")
    raise method_not_allowed("Comments are added (POST /Comments) and deleted, never changed.",
                             allow)


def _resource(path: str) -> ResourcePath:
    resource = parse_path(path)
    if resource.kind not in ("collection", "entity", "property"):
        raise method_not_allowed("Only entity sets, entities and bound actions can be written.",
                                 READ_ONLY)
    return resource
