"""Process management on records: initial status, status actions and assignee changes.

The app's settings are those of ``app/status.json``: ``states`` (name -> ``{name, index,
assignee: {type: ONE|ALL|ANY, entities: [{entity: {type, code}, includeSubs}]}}``) and
``actions`` (``{name, from, to, filterCond, type, executableUser?}``). A record stores its status
name in the STATUS field and its assignees (``{code, name}`` users) in STATUS_ASSIGNEE.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .clock import iso_minute
from .errors import KintoneError
from .query import compile_query
from .records import check_revision, fetch, update

if TYPE_CHECKING:
    from .apps import App
    from .context import Ctx


@dataclass(frozen=True)
class Outcome:
    """A record after a process-management change."""

    revision: int
    data: dict


def enabled_process(app: App) -> dict:
    """The app's process-management settings; GAIA_ST02 when the feature is off."""
    process = app.process or {}
    if not process.get("enable"):
        raise KintoneError("GAIA_ST02")
    return process


def initial_state(app: App, data: dict, ctx: Ctx) -> tuple[str, list[dict]]:
    """The status and assignees of a new record: the first state (by index) and its candidates.

    ``data`` is the new record's stored data (its creator and user fields are candidates).
    """
    states = list((app.process.get("states") or {}).values())
    if not states:
        return "", []
    first = min(states, key=lambda state: int(state.get("index") or 0))
    setting = _assignee_setting(app, first)
    found = candidates(ctx, app, data, setting["entities"])
    return first["name"], found[:1] if setting["type"] == "ONE" else found


def run_action(ctx: Ctx, app: App, rec_id: int, action_name: str, assignee: str | None,
               revision: int | None) -> Outcome:
    """Execute ``action_name`` on a record: status and assignees change, revision +2."""
    process = enabled_process(app)
    conn = ctx.db.conn
    current, data = fetch(conn, app.id, rec_id)
    check_revision(current, revision)
    status_code, assignee_code = _code(app, "STATUS"), _code(app, "STATUS_ASSIGNEE")
    action = _available_action(ctx, app, process, rec_id, action_name, data.get(status_code))
    if ctx.caller.user is not None:  # API tokens act as Administrator, beyond assignee rules
        _check_executor(ctx, app, data, action, data.get(assignee_code) or [])
    state = (process.get("states") or {}).get(action["to"])
    if state is None:
        raise KintoneError("GAIA_IL03")
    new = copy.deepcopy(data)
    new[status_code] = state["name"]
    new[assignee_code] = _next_assignees(ctx, app, data, _assignee_setting(app, state), assignee)
    _touch(ctx, app, new)
    # Kintone records the action and the status change as two updates.
    return Outcome(update(conn, app, rec_id, new, step=2), new)


def set_assignees(ctx: Ctx, app: App, rec_id: int, logins: list[str],
                  revision: int | None) -> Outcome:
    """Replace a record's assignees (``[]`` clears them); revision +1."""
    enabled_process(app)
    conn = ctx.db.conn
    current, data = fetch(conn, app.id, rec_id)
    check_revision(current, revision)
    new = copy.deepcopy(data)
    new[_code(app, "STATUS_ASSIGNEE")] = [_user(ctx, login) for login in dict.fromkeys(logins)]
    _touch(ctx, app, new)
    return Outcome(update(conn, app, rec_id, new), new)


def candidates(ctx: Ctx, app: App, data: dict, entities: list[dict]) -> list[dict]:
    """The users (``{code, name}``) an entity list stands for on one record, without repeats."""
    found: dict[str, dict] = {}
    for item in entities:
        for user in _expand(ctx, app, data, item.get("entity") or {}):
            found.setdefault(user["code"], user)
    return list(found.values())


# ---------------------------------------------------------------------------------------------

def _code(app: App, ftype: str) -> str:
    fd = app.form.of_type(ftype)
    if fd is None:
        raise KintoneError("GAIA_ST02")
    return fd.code


def _assignee_setting(app: App, state: dict) -> dict:
    """``{type, entities}`` of a state; a state saved without one gets Kintone's default, the
    record's creator chosen as the one assignee."""
    setting = state.get("assignee")
    if setting is None:
        creator = {"type": "FIELD_ENTITY", "code": _code(app, "CREATOR")}
        return {"type": "ONE", "entities": [{"entity": creator, "includeSubs": False}]}
    return {"type": setting.get("type") or "ONE", "entities": setting.get("entities") or []}


def _available_action(ctx: Ctx, app: App, process: dict, rec_id: int, name: str,
                      status: str | None) -> dict:
    """The action ``name`` leading out of ``status`` whose condition the record meets."""
    for action in process.get("actions") or []:
        leads_out = action.get("name") == name and action.get("from") == status
        if leads_out and _meets(ctx, app, rec_id, action.get("filterCond") or ""):
            return action
    raise KintoneError("GAIA_IL03")


def _meets(ctx: Ctx, app: App, rec_id: int, condition: str) -> bool:
    if not condition.strip():
        return True
    query = compile_query(condition, app.form, ctx, app=app.id)
    row = ctx.db.conn.execute(
        f"SELECT 1 FROM records r WHERE r.app = ? AND r.id = ? AND ({query.where})",
        [app.id, rec_id, *query.params],
    ).fetchone()
    return row is not None


def _check_executor(ctx: Ctx, app: App, data: dict, action: dict, assignees: list[dict]) -> None:
    """Only current assignees (anyone when there are none) may act, and only executable users."""
    login = ctx.caller.login
    if assignees and login not in {a["code"] for a in assignees}:
        raise KintoneError("GAIA_NT01")
    executable = (action.get("executableUser") or {}).get("entities") or []
    if executable and login not in {u["code"] for u in candidates(ctx, app, data, executable)}:
        raise KintoneError("GAIA_NT01")


def _next_assignees(ctx: Ctx, app: App, data: dict, setting: dict,
                    assignee: str | None) -> list[dict]:
    """Assignees of the next state. ONE: the caller picks one (required unless a single
    candidate exists); ALL / ANY: every candidate, the ``assignee`` parameter is not used."""
    entities = setting["entities"]
    found = candidates(ctx, app, data, entities)
    if setting["type"] != "ONE":
        return found
    if not assignee:
        if not entities:
            return []
        if len(found) == 1:
            return found
        raise KintoneError("GAIA_SA01")
    user = ctx.sandbox.directory.user(assignee)
    codes = {c["code"] for c in found}
    # Candidates that resolve to nobody (e.g. a creator who is "Administrator") accept any user.
    if user is None or not entities or (codes and assignee not in codes):
        raise KintoneError("GAIA_SA04")
    return [{"code": assignee, "name": user.get("name") or assignee}]


def _expand(ctx: Ctx, app: App, data: dict, entity: dict) -> list[dict]:
    kind, code = entity.get("type"), entity.get("code")
    directory = ctx.sandbox.directory
    if kind == "USER":
        user = directory.user(code or "")
        return [_entity(user)] if user else []
    if kind in ("ORGANIZATION", "GROUP"):
        return _members(ctx, "organizations" if kind == "ORGANIZATION" else "groups", code)
    if kind == "CREATOR":
        return _field_users(ctx, app, data, _code(app, "CREATOR"))
    if kind == "FIELD_ENTITY":
        return _field_users(ctx, app, data, code)
    return []  # CUSTOM_FIELD: user-profile fields are not modelled


def _field_users(ctx: Ctx, app: App, data: dict, code: str) -> list[dict]:
    """Users named by a user-valued field of the record (creator, modifier, user selection,
    or the members of selected organizations / groups)."""
    fd = app.form.get(code)
    value = data.get(code)
    if fd is None or fd.table or not value:
        return []
    entries = value if isinstance(value, list) else [value]
    if fd.type == "ORGANIZATION_SELECT":
        return [u for e in entries for u in _members(ctx, "organizations", e["code"])]
    if fd.type == "GROUP_SELECT":
        return [u for e in entries for u in _members(ctx, "groups", e["code"])]
    if fd.type not in ("CREATOR", "MODIFIER", "USER_SELECT"):
        return []
    users = (ctx.sandbox.directory.user(e["code"]) for e in entries)
    return [_entity(u) for u in users if u]


def _members(ctx: Ctx, key: str, code: str | None) -> list[dict]:
    return [_entity(u) for u in ctx.sandbox.directory.users() if code in u.get(key, [])]


def _entity(user: dict) -> dict:
    return {"code": user["login"], "name": user.get("name") or user["login"]}


def _user(ctx: Ctx, login: str) -> dict:
    user = ctx.sandbox.directory.user(login)
    if user is None:
        raise KintoneError("GAIA_SA04")
    return _entity(user)


def _touch(ctx: Ctx, app: App, data: dict) -> None:
    """A status or assignee change is an edit: it updates the modifier and updated time."""
    for fd in app.form.top_level():
        if fd.type == "MODIFIER":
            data[fd.code] = ctx.caller.entity
        elif fd.type == "UPDATED_TIME":
            data[fd.code] = iso_minute(ctx.now())
