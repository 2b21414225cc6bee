"""What the dynamic connector document's pickers and dynamic schemas call, at design time:

* ``GET /api.rsc/$schema``: the record sets the caller may read, ``{"value": [{"Name",
  "Title", "AppId"}]}`` (the app picker's ``x-ms-dynamic-values``);
* ``GET /api.rsc/$schema/<Set>/keys``: the text fields that identify a record of the set
  (unique, writable), ``{"value": [{"Name", "Title"}]}``, for the upsert's key picker;
* ``GET /api.rsc/$schema/<Set>?for=read|create|update``: ``{"schema": JSON Schema}`` of a
  record of that set as read, or of the body that creates or changes one (``x-ms-dynamic-schema``):
  the same schemas the typed document declares, field labels as ``x-ms-summary``, choices as
  ``enum``, and (as read) the Status field's values: the states of the app's process.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..model import EntitySet, Model, edm
from ..odata.errors import bad_request
from ..security import can, require
from ..writes.upsert import alternate_keys
from . import service
from .guidance import polish
from .origin import SERVICE_PATH
from .process_states import Workflow, with_states
from .schemas import entity_definition, input_definition

PATH = "/$schema"
PURPOSES = ("read", "create", "update")

blueprint = Blueprint("record_schemas", __name__, url_prefix=SERVICE_PATH)


@blueprint.get(PATH)
@blueprint.get(f"/@<token>{PATH}")
def record_sets(token: str | None = None) -> Response:
    model = service.current().models()
    sets = [s for s in model.entity_sets.values()
            if s.kind == "records" and can("GET", s.name)]
    return jsonify({"value": [{"Name": s.name, "Title": f"{s.app_name} ({s.name})",
                               "AppId": s.app_id} for s in sets]})


@blueprint.get(f"{PATH}/<set_name>/keys")
@blueprint.get(f"/@<token>{PATH}/<set_name>/keys")
def key_fields(set_name: str, token: str | None = None) -> Response:
    entity_set = _record_set(service.current().models(), set_name)
    keys = [p for p in alternate_keys(entity_set.entity_type) if p.edm_type == edm.STRING]
    return jsonify({"value": [{"Name": p.name, "Title": p.label or p.name} for p in keys]})


@blueprint.get(f"{PATH}/<set_name>")
@blueprint.get(f"/@<token>{PATH}/<set_name>")
def record_schema(set_name: str, token: str | None = None) -> Response:
    purpose = request.args.get("for", "read")
    if purpose not in PURPOSES:
        raise bad_request(f"for: one of {', '.join(PURPOSES)}", "for")
    model = service.current().models()
    entity_set = _record_set(model, set_name)
    if purpose == "read":
        processes = service.current().processes.of(model, [entity_set])
        process = processes.get(entity_set.app_id or 0, Workflow())
        schema = with_states(entity_definition(entity_set, model.complex_type), entity_set,
                             process.states)
    else:
        schema = input_definition(entity_set, model.complex_type, new=purpose == "create")
    return jsonify({"schema": polish(schema)})


def _record_set(model: Model, name: str) -> EntitySet:
    """The record set ``name``, once the caller's right to read it is checked."""
    entity_set = model.entity_set(name)
    if entity_set.kind != "records":
        raise bad_request(f"{name} is not the entity set of a Kintone app", "set")
    require("GET", entity_set.name)
    return entity_set
