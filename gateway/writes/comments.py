"""Record comments: ``POST /Comments`` ``{"AppId", "RecordId", "Text", "Mentions":
[{"Code", "Type"}]}`` → 201 with the comment (``Type`` USER, GROUP or ORGANIZATION, default
USER), and ``DELETE /Comments(AppId=..,RecordId=..,Id=..)`` → 204. Kintone allows neither
inside a bulkRequest, so they cannot be part of a ``$batch`` atomicity group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.urls import iri_to_uri

from ..kintone import KintoneError
from ..model import EntitySet, UnknownName
from ..odata import payload
from ..odata.errors import bad_request
from ..odata.numbers import json_int64
from ..odata.resource import parse_key
from ..security import require
from ..service.entities import static_entity
from .context import Writes
from .errors import write_error
from .exchange import Reply, WriteRequest
from .ops import send
from .shaping import MINIMAL

MENTION_TYPES = ("USER", "GROUP", "ORGANIZATION")
# What a new comment is made of; the first three are required.
COMMENT_INPUT = ("AppId", "RecordId", "Text", "Mentions")


def create(ctx: Writes, req: WriteRequest, entity_set: EntitySet) -> Reply:
    fmt = req.json_format
    body = req.json_object()
    unknown = [name for name in body if name not in COMMENT_INPUT and "@" not in name]
    if unknown:
        raise bad_request(f"A new comment has no property '{unknown[0]}' (it has "
                          f"{', '.join(COMMENT_INPUT)}).", unknown[0])
    app, record = _id(body, "AppId"), _id(body, "RecordId")
    _require_on_app(ctx, app, "POST")
    text = body.get("Text")
    if not isinstance(text, str) or not text:
        raise bad_request("Text is required.", "Text")
    listed = body.get("Mentions")
    if not isinstance(listed, list | None):
        raise bad_request("Mentions must be a list.", "Mentions")
    mentions = [_mention(item, i) for i, item in enumerate(listed or [])]
    try:
        comment_id = send(lambda: ctx.client.add_comment(app, record, text, mentions),
                          ctx.retry, repeatable=False)
    except KintoneError as error:
        raise write_error(None, error) from error
    entity = {"AppId": app, "RecordId": record, "Id": comment_id}
    url = iri_to_uri(payload.entity_url(req.root, entity_set, entity))
    headers = {"Location": url, "OData-EntityId": url}
    if req.prefers(MINIMAL):
        return Reply(204, headers={**headers, "Preference-Applied": MINIMAL})
    entity = _read_back(ctx, entity_set, entity)
    body = payload.entity_document(entity_set, entity, metadata=fmt.metadata, base_url=req.root,
                                   ieee754=fmt.ieee754)
    return Reply(201, body, headers, fmt.content_type)


def delete(ctx: Writes, entity_set: EntitySet, key: str) -> Reply:
    ids = parse_key(key, entity_set.entity_type)
    _require_on_app(ctx, ids["AppId"], "DELETE")
    try:
        send(lambda: ctx.client.delete_comment(ids["AppId"], ids["RecordId"], ids["Id"]),
             ctx.retry, repeatable=False)
    except KintoneError as error:
        raise write_error(None, error) from error
    return Reply(204)


def _require_on_app(ctx: Writes, app: int, method: str) -> None:
    """Comments are the app's: adding one needs POST on its record set, deleting DELETE."""
    try:
        records = ctx.models().records_set(app)
    except UnknownName:
        raise bad_request(f"App {app} is not exposed by this service.", "AppId") from None
    require(method, records.name, f", which {method} on its comments needs")


def _read_back(ctx: Writes, entity_set: EntitySet, entity: dict[str, Any]) -> dict[str, Any]:
    """The new comment as ``Comments`` shows it (it is among the newest ten)."""
    app, record = entity["AppId"], entity["RecordId"]
    try:
        page = ctx.client.get_comments(app, record, order="desc", limit=10)
    except KintoneError:
        return entity
    found = next((c for c in page.comments if int(c["id"]) == entity["Id"]), None)
    if found is None:
        return entity
    return static_entity(entity_set.entity_type, found, {"AppId": app, "RecordId": record})


def _id(body: Mapping[str, Any], name: str) -> int:
    value = json_int64(body.get(name))
    if value is None or value < 1:
        raise bad_request(f"{name} is required: a positive integer, not {body.get(name)!r}.",
                          name)
    return value


def _mention(item: Any, index: int) -> dict[str, str]:
    target = f"Mentions[{index}]"
    if not isinstance(item, Mapping) or not isinstance(item.get("Code"), str):
        raise bad_request(f'{target} must be {{"Code": ..., "Type": ...}}.', target)
    kind = item.get("Type", "USER")  # as documented: left out means a user
    if kind not in MENTION_TYPES:
        raise bad_request(f"{target}: Type must be USER, GROUP or ORGANIZATION.", target)
    return {"code": item["Code"], "type": kind}
