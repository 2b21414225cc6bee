"""The Flask views of the write side, beside the read side's ``GET /api.rsc/<path>``: Werkzeug
picks a view by method, and the file download's longer rule wins over the read side's."""

from __future__ import annotations

from flask import Blueprint, Response

from ..odata.resource import parse_path
from ..security import current_user, require
from . import files
from .context import writes
from .dispatch import answer
from .exchange import WriteRequest
from .planning import record_set

blueprint = Blueprint("odata_writes", __name__)


@blueprint.route("/api.rsc/<path:path>", methods=["POST", "PATCH", "PUT", "DELETE"])
def write(path: str) -> Response:
    ctx = writes()
    req = WriteRequest.current(path, ctx.settings)
    user = current_user()
    return ctx.idempotency.run(req, user.name if user else "", lambda: answer(ctx, req)).response()


@blueprint.get("/api.rsc/<path:path>/<int:index>/$value")
def download(path: str, index: int) -> Response:
    ctx = writes()
    resource = parse_path(path)
    entity_set = record_set(ctx.models(), resource)
    require("GET", entity_set.name)
    return files.download(ctx, entity_set, resource.key or "", resource.property_name or "",
                          index)
