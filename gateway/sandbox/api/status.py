"""``record/status.json``, ``records/status.json`` (process actions), ``record/assignees.json``."""

from __future__ import annotations

from typing import Any

from ..apps import App
from ..context import Ctx
from ..errors import KintoneError, invalid
from ..params import Params, to_int
from ..process import Outcome, run_action, set_assignees
from ..webhooks import record_event
from .common import live_app
from .registry import endpoint

MAX_RECORDS = 100
MAX_ASSIGNEES = 100


@endpoint("PUT", "record/status", right="edit", bulk=True)
def update_status(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    rec_id, outcome = _act(ctx, app, params.data, "")
    ctx.events.append(record_event(ctx, app, "UPDATE_STATUS", rec_id, outcome.revision,
                                   outcome.data))
    return {"revision": str(outcome.revision)}


@endpoint("PUT", "records/status", right="edit", bulk=True)
def update_statuses(ctx: Ctx, params: Params) -> dict:
    """All or nothing (the request's transaction); no webhooks, as for every multi-record API."""
    app = live_app(ctx, params.int("app"))
    items = params.list("records", required=True)
    if len(items) > MAX_RECORDS:
        raise invalid("records", "max_update")
    results = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise KintoneError("CB_IJ01")
        rec_id, outcome = _act(ctx, app, item, f"records[{i}].")
        results.append({"id": str(rec_id), "revision": str(outcome.revision)})
    return {"records": results}


@endpoint("PUT", "record/assignees", right="edit", bulk=True)
def update_assignees(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("app"))
    rec_id = params.int("id", minimum=1)
    logins = params.list("assignees", required=True)
    if len(logins) > MAX_ASSIGNEES:
        raise invalid("assignees", "size_range", 0, MAX_ASSIGNEES)
    if not all(isinstance(login, str) for login in logins):
        raise KintoneError("CB_IJ01")
    revision = params.int("revision", required=False, minimum=-1)
    outcome = set_assignees(ctx, app, rec_id, logins, revision)
    return {"revision": str(outcome.revision)}


def _act(ctx: Ctx, app: App, item: dict, prefix: str) -> tuple[int, Outcome]:
    """Run the action one request (or one element of ``records``) asks for."""
    rec_id = to_int(_required(ctx, item, prefix, "id"), f"{prefix}id", minimum=1)
    action = _text(_required(ctx, item, prefix, "action"))
    assignee = _text(item.get("assignee")) or None
    raw = item.get("revision")
    revision = None if raw is None or raw == "" else to_int(raw, f"{prefix}revision", minimum=-1)
    return rec_id, run_action(ctx, app, rec_id, action, assignee, revision)


def _required(ctx: Ctx, item: dict, prefix: str, name: str) -> Any:
    value = item.get(name)
    if value is None or value == "":
        raise invalid(f"{prefix}{name}", "required_param")
    return value


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        raise KintoneError("CB_IJ01")
    return "" if value is None else str(value)
