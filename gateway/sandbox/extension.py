"""Test-only extension API, mounted at ``/__sandbox``: clearly outside the Kintone API.

JSON in, JSON out, no authentication, no concurrency accounting or fault injection. Errors are
``{"error": "..."}`` with 400/404, except Kintone validation errors met while seeding, which keep
Kintone's own body and status.

State
    ``POST /reset``: forget all data (apps, records, spaces, tokens, webhooks, cursors, files, the
    delivery log), the clock and the faults, then re-apply the sandbox's configuration (config
    file / users file, see config.py). A sandbox built only in code loses its users too; its
    settings (language, organisation time zone, Basic layer) stay as they are.

Apps and records (created through the same code as the Kintone API, so seeded data equals
API-written data; ``user`` (optional, a login) is the acting user, else "Administrator", an app
administrator who may also set CREATOR/CREATED_TIME/MODIFIER/UPDATED_TIME)
    ``POST /apps`` ``{name, code?, space?, thread?, fields?: {code: properties},
    settings?: {as PUT preview/app/settings}, process?: {as PUT preview/app/status},
    records?: [record], tokens?: [{rights}], user?}``
    → ``{"app": id, "ids": [record ids], "tokens": [token]}``: create, configure and deploy an app.
    ``POST /apps/<app>/records`` ``{records: [record], user?}`` → ``{"ids": [...]}``: add any
    number of records in one transaction (no 100 limit, no webhooks: a benchmark fast path).
    ``POST /apps/<app>/tokens`` ``{rights?: ["view", "add", "edit", "delete", "manage"]}``
    → ``{"token"}`` (default rights: view only, as Kintone's UI; at most 20 per app).
    ``POST /apps/<app>/records/<id>/ui-delete`` ``{user?}`` → ``{}``: delete a record as the UI
    does, the only way DELETE_RECORD webhooks fire.

Directory
    ``POST /users`` ``{login, password, name?, organizations?, groups?, timezone?, language?,
    admin?}`` → the user (without password). ``POST /organizations``, ``POST /groups``
    ``{code, name?}`` → the entity. ``POST /spaces`` ``{name, isGuest?, isPrivate?, members?,
    creator?}`` → ``{"id"}`` (its default thread has the same id).
    ``POST /oauth/tokens`` ``{user, scopes: [...]}`` → ``{"access_token"}``.

Clock, time zone and faults
    ``GET /clock`` → ``{"now": pinned ISO time or null, "offset_seconds", "timezone",
    "current": the sandbox's current time}``. ``PUT /clock`` with any of ``now`` (ISO; null =
    real time; without offset = in the organisation time zone), ``offset_seconds`` (added to the
    pinned or real time), ``timezone`` (organisation default) → same as GET.
    ``GET /faults``, ``PUT /faults`` with any of ``latency_ms``, ``rate_429``, ``rate_503``,
    ``rate_drop`` (probabilities 0..1 per Kintone API request) → the faults.

Webhooks
    ``POST /apps/<app>/webhooks`` ``{url, events: [ADD_RECORD, UPDATE_RECORD, DELETE_RECORD,
    UPDATE_STATUS, ADD_RECORD_COMMENT], enabled?, description?}`` → the webhook with its ``id``.
    ``GET /apps/<app>/webhooks`` → ``{"webhooks": [...]}``.
    ``GET /webhooks/deliveries`` → ``{"deliveries": [{webhook, url, type, payload, time,
    status, error}]}`` (oldest first); ``DELETE /webhooks/deliveries`` clears the log.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify, request

from .api.registry import call, find
from .app_admin import set_code
from .apps import App, load_app, load_space
from .config import (
    SpaceSpec,
    UserSpec,
    apply_config,
    check_timezone,
    check_user,
    configured,
    create_space_from,
    oauth_grants,
)
from .context import PERMISSIONS, Caller, Ctx
from .errors import KintoneError, Problems
from .params import Params
from .record_write import new_record_data
from .records import delete, fetch, insert
from .state import Faults, Sandbox
from .webhooks import add_webhook, app_webhooks, delete_event, deliver, delivery_log

blueprint = Blueprint("sandbox_extension", __name__)

MAX_TOKENS_PER_APP = 20
_TOKEN_ALPHABET = string.ascii_letters + string.digits
# The acting user when a seeding request names none: what API-token writes record.
_SEED_USER = {"login": "Administrator", "name": "Administrator", "admin": True}


class ExtensionError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@blueprint.errorhandler(ExtensionError)
def _extension_error(exc: ExtensionError) -> tuple[Response, int]:
    return jsonify(error=str(exc)), exc.status


@blueprint.errorhandler(ValueError)  # ConfigError and webhook settings
def _value_error(exc: ValueError) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 400


@blueprint.errorhandler(KintoneError)
def _kintone_error(exc: KintoneError) -> tuple[Response, int]:
    return jsonify(exc.render(_sandbox().config.language)), exc.http_status


# --- helpers ------------------------------------------------------------------------------------

def _sandbox() -> Sandbox:
    return current_app.config["SANDBOX"]


def _body() -> dict:
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict):
        raise ExtensionError("the body must be a JSON object")
    return body


def _ctx(sandbox: Sandbox, login: str | None, guest_space: int | None = None) -> Ctx:
    """A Kintone API context acting as ``login`` (or the seeding administrator)."""
    user = dict(_SEED_USER) if login is None else sandbox.directory.user(login)
    if user is None:
        raise ExtensionError(f"unknown user {login!r}", 404)
    return Ctx(sandbox=sandbox, caller=Caller(user=user), lang=sandbox.config.language,
               guest_space=guest_space, base_url=request.host_url.rstrip("/"))


def _app(sandbox: Sandbox, app_id: int) -> App:
    app = load_app(sandbox.db.conn, app_id)
    if app is None:
        raise ExtensionError(f"app {app_id} not found (or never deployed)", 404)
    return app


def _guest_space(sandbox: Sandbox, space_id: object) -> int | None:
    """The guest-space path a request about ``space_id`` must use (None: the normal path)."""
    if space_id is None:
        return None
    if not str(space_id).isdigit():
        raise ExtensionError("space must be a space id")
    space = load_space(sandbox.db.conn, int(space_id))
    if space is None:
        raise ExtensionError(f"space {space_id} not found", 404)
    return int(space_id) if space.get("isGuest") else None


def _kintone(ctx: Ctx, method: str, api: str, params: dict) -> dict:
    """Run a Kintone API endpoint in-process, exactly as an HTTP call would."""
    return call(ctx, find(method, api), Params(params))


def _list(body: dict, key: str) -> list:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise ExtensionError(f"{key} must be a list")
    return value


# --- state --------------------------------------------------------------------------------------

@blueprint.post("/reset")
def reset() -> dict:
    sandbox = _sandbox()
    seed = configured(sandbox)
    sandbox.reset()
    if seed is not None:
        apply_config(sandbox, seed)
    return {}


# --- apps and records ---------------------------------------------------------------------------

@blueprint.post("/apps")
def seed_app() -> dict:
    sandbox, body = _sandbox(), _body()
    if not isinstance(body.get("name"), str) or not body["name"]:
        raise ExtensionError("name is required")
    token_specs = _list(body, "tokens")
    if not all(isinstance(spec, dict) for spec in token_specs):
        raise ExtensionError("tokens must be a list of {\"rights\": [...]}")
    with sandbox.db.transaction() as conn:
        ctx = _ctx(sandbox, body.get("user"), _guest_space(sandbox, body.get("space")))
        app_id = _create_app(ctx, body)
        if body.get("code"):
            set_code(conn, app_id, str(body["code"]))
        _kintone(ctx, "POST", "preview/app/deploy", {"apps": [{"app": app_id}]})
        ids = _insert_records(ctx, _app(sandbox, app_id), _list(body, "records"))
        tokens = [_new_token(conn, app_id, spec.get("rights")) for spec in token_specs]
    return {"app": app_id, "ids": ids, "tokens": tokens}


def _create_app(ctx: Ctx, body: dict) -> int:
    created = {key: body[key] for key in ("name", "space", "thread") if key in body}
    app_id = int(_kintone(ctx, "POST", "preview/app", created)["app"])
    if body.get("fields"):
        _kintone(ctx, "POST", "preview/app/form/fields",
                 {"app": app_id, "properties": body["fields"]})
    if body.get("settings"):
        _kintone(ctx, "PUT", "preview/app/settings", {**body["settings"], "app": app_id})
    if body.get("process"):
        _kintone(ctx, "PUT", "preview/app/status", {**body["process"], "app": app_id})
    return app_id


@blueprint.post("/apps/<int:app_id>/records")
def seed_records(app_id: int) -> dict:
    sandbox, body = _sandbox(), _body()
    with sandbox.db.transaction():
        app = _app(sandbox, app_id)
        ctx = _ctx(sandbox, body.get("user"), _guest_space(sandbox, app.space_id))
        return {"ids": _insert_records(ctx, app, _list(body, "records"))}


def _insert_records(ctx: Ctx, app: App, items: list) -> list[int]:
    """POST records.json's write path without its 100-record limit; all or nothing."""
    problems = Problems(ctx.lang)
    ids = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ExtensionError(f"records[{i}] must be an object")
        data = new_record_data(ctx, app, item, f"records[{i}]", problems)
        if not problems:
            ids.append(insert(ctx.db.conn, app, data)[0])
    problems.raise_if_any()
    return ids


@blueprint.post("/apps/<int:app_id>/tokens")
def new_token(app_id: int) -> dict:
    sandbox, body = _sandbox(), _body()
    with sandbox.db.transaction() as conn:
        _app(sandbox, app_id)
        return {"token": _new_token(conn, app_id, body.get("rights"))}


def _new_token(conn: sqlite3.Connection, app_id: int, rights: list[str] | None) -> str:
    rights = ["view"] if rights is None else rights
    if not isinstance(rights, list) or not set(rights) <= set(PERMISSIONS):
        raise ExtensionError(f"rights must be a list of {', '.join(PERMISSIONS)}")
    count = conn.execute("SELECT count(*) FROM api_tokens WHERE app = ?", (app_id,)).fetchone()[0]
    if count >= MAX_TOKENS_PER_APP:
        raise ExtensionError(f"an app can have at most {MAX_TOKENS_PER_APP} API tokens")
    token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(40))
    conn.execute("INSERT INTO api_tokens (token, app, data) VALUES (?, ?, ?)",
                 (token, app_id, json.dumps({"rights": sorted(set(rights))})))
    return token


@blueprint.post("/apps/<int:app_id>/records/<int:rec_id>/ui-delete")
def ui_delete(app_id: int, rec_id: int) -> dict:
    sandbox, body = _sandbox(), _body()
    ctx = _ctx(sandbox, body.get("user"))
    with sandbox.db.transaction() as conn:
        app = _app(sandbox, app_id)
        fetch(conn, app_id, rec_id)  # GAIA_RE01 when it does not exist
        delete(conn, app_id, [rec_id])
        ctx.events.append(delete_event(ctx, app, rec_id))
    deliver(sandbox, ctx.events)
    return {}


# --- directory ----------------------------------------------------------------------------------

@blueprint.post("/users")
def add_user() -> dict:
    spec = _spec(UserSpec, _body())
    check_user(spec)
    user = _sandbox().directory.add_user(
        spec.login, spec.password, spec.name, organizations=spec.organizations,
        groups=spec.groups, timezone=spec.timezone, language=spec.language, admin=spec.admin,
    )
    return {k: v for k, v in user.items() if k != "password"}


@blueprint.post("/organizations")
def add_organization() -> dict:
    body = _body()
    return _sandbox().directory.add_organization(_code(body), body.get("name"))


@blueprint.post("/groups")
def add_group() -> dict:
    body = _body()
    return _sandbox().directory.add_group(_code(body), body.get("name"))


@blueprint.post("/spaces")
def add_space() -> dict:
    return {"id": create_space_from(_sandbox(), _spec(SpaceSpec, _body()))}


@blueprint.post("/oauth/tokens")
def new_oauth_token() -> dict:
    sandbox, body = _sandbox(), _body()
    login, scopes = body.get("user"), body.get("scopes") or []
    if sandbox.directory.user(login or "") is None:
        raise ExtensionError(f"unknown user {login!r}", 404)
    if not isinstance(scopes, list):
        raise ExtensionError("scopes must be a list")
    token = secrets.token_urlsafe(32)
    oauth_grants(sandbox)[token] = (login, [str(s) for s in scopes])
    return {"access_token": token, "token_type": "Bearer", "scope": " ".join(scopes)}


def _spec(cls: type, body: dict):
    unknown = set(body) - {f.name for f in fields(cls)}
    if unknown:
        raise ExtensionError(f"unknown keys {sorted(unknown)}")
    try:
        return cls(**body)
    except TypeError as exc:
        raise ExtensionError(str(exc)) from None


def _code(body: dict) -> str:
    if not isinstance(body.get("code"), str) or not body["code"]:
        raise ExtensionError("code is required")
    return body["code"]


# --- clock and faults ---------------------------------------------------------------------------

@blueprint.get("/clock")
def get_clock() -> dict:
    sandbox = _sandbox()
    clock = sandbox.clock
    return {
        "now": clock.fixed.isoformat() if clock.fixed else None,
        "offset_seconds": clock.offset.total_seconds(),
        "timezone": sandbox.config.timezone,
        "current": clock.now().isoformat(),
    }


@blueprint.put("/clock")
def put_clock() -> dict:
    sandbox, body = _sandbox(), _body()
    clock = sandbox.clock
    timezone = str(body.get("timezone", sandbox.config.timezone))
    check_timezone(timezone)
    fixed = _moment(body["now"], timezone) if "now" in body else clock.fixed
    offset = clock.offset
    if "offset_seconds" in body:
        offset = timedelta(seconds=_number(body, "offset_seconds"))
    sandbox.config.timezone = timezone
    clock.set(fixed, offset)
    return get_clock()


def _moment(value: object, timezone: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ExtensionError(f"now must be an ISO 8601 date-time, not {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


def _number(body: dict, key: str) -> float:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExtensionError(f"{key} must be a number")
    return value


@blueprint.get("/faults")
def get_faults() -> dict:
    return asdict(_sandbox().faults)


@blueprint.put("/faults")
def put_faults() -> dict:
    sandbox, body = _sandbox(), _body()
    current = asdict(sandbox.faults)
    unknown = set(body) - set(current)
    if unknown:
        raise ExtensionError(f"unknown faults {sorted(unknown)}")
    for key in body:
        value = _number(body, key)
        if value < 0 or (key.startswith("rate_") and value > 1):
            raise ExtensionError(f"{key} out of range")
        current[key] = int(value) if key == "latency_ms" else float(value)
    if current["rate_429"] + current["rate_503"] + current["rate_drop"] > 1:
        raise ExtensionError("the fault rates add up to more than 1")
    sandbox.faults = Faults(**current)
    return current


# --- webhooks -----------------------------------------------------------------------------------

@blueprint.post("/apps/<int:app_id>/webhooks")
def new_webhook(app_id: int) -> dict:
    sandbox, body = _sandbox(), _body()
    events = body.get("events")
    if not isinstance(body.get("url"), str) or not isinstance(events, list):
        raise ExtensionError("url (string) and events (list) are required")
    with sandbox.db.transaction() as conn:
        _app(sandbox, app_id)
        hook = add_webhook(conn, app_id, body["url"], events, bool(body.get("enabled", True)),
                           str(body.get("description", "")))
    return asdict(hook)


@blueprint.get("/apps/<int:app_id>/webhooks")
def list_webhooks(app_id: int) -> dict:
    sandbox = _sandbox()
    with sandbox.db.lock:
        return {"webhooks": [asdict(h) for h in app_webhooks(sandbox.db.conn, app_id)]}


@blueprint.get("/webhooks/deliveries")
def get_deliveries() -> dict:
    return {"deliveries": delivery_log(_sandbox()).snapshot()}


@blueprint.delete("/webhooks/deliveries")
def clear_deliveries() -> dict:
    delivery_log(_sandbox()).clear()
    return {}

