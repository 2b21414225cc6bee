"""Process management as OData actions bound to a record (answer 204 with the new ``ETag``):

* ``POST /<Set>(<Id>)/Kintone.UpdateStatus`` ``{"Action": "Submit", "Assignee": "bob"}``: run
  a status action (its name as Kintone shows it to the gateway's user); ``Assignee`` (a login
  name, or ``{"Code": ...}``) when the next status asks for one.
* ``POST /<Set>(<Id>)/Kintone.SetAssignees`` ``{"Assignees": ["bob", {"Code": "carol"}]}``: set
  the assignees of the current status (``[]`` clears).

``If-Match`` guards both with the record's revision. CSDL, in the ``Kintone`` schema::

    <Action Name="UpdateStatus" IsBound="true">
      <Parameter Name="record" Type="Kintone.<RecordType>" Nullable="false"/>
      <Parameter Name="Action" Type="Edm.String" Nullable="false"/>
      <Parameter Name="Assignee" Type="Edm.String"/>
    </Action>
    <Action Name="SetAssignees" IsBound="true">
      <Parameter Name="record" Type="Kintone.<RecordType>" Nullable="false"/>
      <Parameter Name="Assignees" Type="Collection(Edm.String)" Nullable="false"/>
    </Action>

(one overload per record type whose app has process management enabled).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..kintone.models import RecordRef
from ..model import EntitySet
from ..odata.errors import bad_request, not_found
from ..odata.resource import parse_key
from . import ops
from .exchange import Reply, WriteRequest, etag
from .planning import Planned
from .values import entity_code

UPDATE_STATUS = "Kintone.UpdateStatus"
SET_ASSIGNEES = "Kintone.SetAssignees"


def is_action(name: str) -> bool:
    return name in _PLANNERS


def plan_action(req: WriteRequest, entity_set: EntitySet, key: str, name: str) -> Planned:
    if name not in _PLANNERS:
        raise not_found(f"{entity_set.name} has no action '{name}'.")
    record_id = parse_key(key, entity_set.entity_type)["Id"]
    assert entity_set.app_id is not None
    write = _PLANNERS[name](entity_set.app_id, record_id, req.json_object(), req.revision())
    return Planned(entity_set, write, _done)


def _done(ref: RecordRef | None) -> Reply:
    assert ref is not None
    return Reply(204, headers={"ETag": etag(ref.revision)})


def _update_status(app: int, record: int, body: Mapping[str, Any],
                   revision: int | None) -> ops.Write:
    action = body.get("Action")
    if not isinstance(action, str) or not action:
        raise bad_request("UpdateStatus needs the parameter Action (the action's name).",
                          "Action")
    assignee = body.get("Assignee")
    code = None if assignee is None else entity_code(assignee, "Assignee")
    return ops.UpdateStatus(app, record, action, code, revision)


def _set_assignees(app: int, record: int, body: Mapping[str, Any],
                   revision: int | None) -> ops.Write:
    assignees = body.get("Assignees")
    if not isinstance(assignees, list):
        raise bad_request("SetAssignees needs the parameter Assignees (an array of login "
                          "names).", "Assignees")
    codes = tuple(entity_code(item, f"Assignees[{i}]") for i, item in enumerate(assignees))
    return ops.SetAssignees(app, record, codes, revision)


_PLANNERS: Mapping[str, Callable[[int, int, Mapping[str, Any], int | None], ops.Write]] = {
    UPDATE_STATUS: _update_status,
    SET_ASSIGNEES: _set_assignees,
}
