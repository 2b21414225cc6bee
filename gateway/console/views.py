"""The console's pages. Every request passes ``_admit``: the console's address allowlist, then
(except for the login page and the static files) a session of an admin, and for a change
(POST) the session's CSRF token and, when the browser sends one, our own Origin."""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from ..kintone import KintoneError
from ..model import ModelUnavailable
from ..model.schema import UnknownName
from ..odata.errors import ODataError
from ..odata.links import SERVICE_PATH
from ..security.audit import current_entry
from ..security.authn import Credential
from ..security.errors import Refusal
from ..security.users import User
from ..triggers.context import EXTENSION as TRIGGERS_EXTENSION
from ..triggers.store import TriggerStore
from . import overview
from .activity import Filter
from .charts import HEIGHT, WIDTH, charts
from .context import Console, console
from .explain import explain as explained
from .session import COOKIE, Session
from .settings_view import effective
from .users import Issued, Refused, UserAdmin, is_admin

blueprint = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
                      static_folder="static")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
_OPEN = {"console.login", "console.log_in", "console.static"}  # reachable without a session
_SESSION = "console_session"
_ACTIVITY_LIMIT = 200
_DEAD_LETTERS = 50  # the newest, shown and retried
log = logging.getLogger("gateway.security")


@blueprint.before_request
def _admit() -> BaseResponse | None:
    c = console()
    client = c.guard.ip.client(request.remote_addr or "", request.headers.get("X-Forwarded-For"))
    if client not in c.allowed:
        return _page_error(403, f"The console may not be used from {client or 'this address'} "
                                "([Console] AllowedIPs).")
    if request.method == "POST" and not _same_origin():
        return _page_error(403, "This form was sent from another site.")
    if request.endpoint in _OPEN:
        return None
    session = c.sessions.open(request.cookies.get(COOKIE))
    if session is None:
        if request.method == "GET":
            return redirect(url_for(".login"))
        return _page_error(403, "No console session: log in first.")
    _note_user(session.user.name)
    if not is_admin(session.user):
        return _page_error(403, f"User {session.user.name} is not an admin.")
    if request.method == "POST" and not hmac.compare_digest(
            request.form.get("csrf", ""), session.csrf):
        return _page_error(403, "The form's CSRF token is missing or wrong: reload the page.")
    g.setdefault(_SESSION, session)
    return None


@blueprint.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"  # pages may show a new token
    # Not the API's no-referrer: with it, browsers send "Origin: null" with our own forms.
    response.headers["Referrer-Policy"] = "same-origin"
    session: Session | None = g.get(_SESSION)
    if session is not None:
        # Re-signed with this request's time: the idle timeout counts from now.
        response.set_cookie(COOKIE, console().sessions.cookie(session), httponly=True,
                            samesite="Strict", secure=_secure(), path=blueprint.url_prefix)
    return response


@blueprint.get("/login")
def login() -> str:
    return render_template("login.html")


@blueprint.post("/login")
def log_in() -> BaseResponse | tuple[str, int, dict]:
    c = console()
    address = c.guard.ip.client(request.remote_addr or "", request.headers.get("X-Forwarded-For"))
    wait = c.guard.hourly.hit(f"console-login {address}", c.logins_per_hour)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        return (render_template("login.html", error=f"Too many attempts from {address}: try "
                                f"again in {seconds} s."), 429, {"Retry-After": str(seconds)})
    token = request.form.get("authtoken", "").strip()
    name = request.form.get("user", "").strip() or None
    try:
        user = c.guard.authenticator.verify(Credential(token, name)) if token else None
    except Refusal:
        user = None
    if user is None:
        return render_template("login.html", error="The authtoken is not valid."), 401, {}
    _note_user(user.name)
    if not is_admin(user):
        return (render_template("login.html", error=f"User {user.name} is not an admin: the "
                                "console needs every right on every entity set (*:*)."), 403, {})
    g.setdefault(_SESSION, c.sessions.start(user))
    return redirect(url_for(".status"), 303)


@blueprint.post("/logout")
def log_out() -> BaseResponse:
    g.pop(_SESSION, None)
    response = redirect(url_for(".login"), 303)
    response.delete_cookie(COOKIE, path=blueprint.url_prefix, httponly=True, samesite="Strict",
                           secure=_secure())
    return response


@blueprint.get("/")
def status() -> str:
    return _render("status.html", "status", status=overview.status(console()))


@blueprint.get("/apps")
def apps() -> str | tuple[str, int]:
    c = console()
    try:
        model = c.gateway.models.get()
        rows = overview.apps(c, model)
    except ModelUnavailable as exc:
        return _render("apps.html", "apps", error=str(exc), rows=[]), 503
    root = _service_root(c)
    return _render("apps.html", "apps", rows=rows, root=root,
                   links={s.name: overview.links(root, s.name)
                          for row in rows for s in row.sets})


@blueprint.get("/users")
def users() -> str:
    return _users_page()


@blueprint.post("/users")
def add_user() -> tuple[str, int]:
    form = request.form
    name = form.get("name", "").strip()
    return _change(lambda admin: admin.add(name, form.get("rights", "").strip(),
                                           form.get("expires", "")), f"added user {name}", 201)


@blueprint.post("/users/<name>/rights")
def change_rights(name: str) -> tuple[str, int]:
    rights = request.form.get("rights", "")
    return _change(lambda admin: admin.change_rights(name, rights),
                   f"gave user {name} the rights {rights}")


@blueprint.post("/users/<name>/rotate")
def rotate(name: str) -> tuple[str, int]:
    return _change(lambda admin: admin.rotate(name), f"rotated the token of user {name}")


@blueprint.post("/users/<name>/revoke")
def revoke(name: str) -> tuple[str, int]:
    return _change(lambda admin: admin.revoke(name), f"revoked user {name}")


def _change(action: Callable[[UserAdmin], object], what: str, ok: int = 200
            ) -> tuple[str, int]:
    admin = UserAdmin(console().guard.authenticator)
    try:
        result = action(admin)
    except (ValueError, OSError) as exc:  # Refused, RightsError and bad names are ValueErrors
        return _users_page(error=str(exc)), 409 if isinstance(exc, Refused) else 400
    _log_change(what)
    return _users_page(issued=result if isinstance(result, Issued) else None), ok


def _users_page(*, error: str | None = None, issued: Issued | None = None) -> str:
    c = console()
    admin = UserAdmin(c.guard.authenticator)
    everyone: list[User] = sorted(admin.store.all().values(), key=lambda u: u.name)
    return _render("users.html", "users", users=everyone, error=error, issued=issued,
                   editable={u.name for u in everyone if admin.editable(u.name)},
                   admins={u.name for u in everyone if is_admin(u)},
                   last_use=c.activity.last_use, path=admin.store.path)


@blueprint.get("/activity")
def activity() -> str:
    keep = Filter(request.args.get("user", "").strip(), request.args.get("status", "").strip(),
                  request.args.get("set", "").strip())
    lines = console().activity.recent(keep, _ACTIVITY_LIMIT)
    return _render("activity.html", "activity", lines=lines, keep=keep)


@blueprint.get("/triggers")
def triggers() -> str:
    return _triggers_page()


@blueprint.post("/triggers/<subscription_id>/delete")
def delete_subscription(subscription_id: str) -> tuple[str, int]:
    store = _trigger_store()
    if store is None or not store.remove(subscription_id):
        return _triggers_page(error=f"There is no subscription {subscription_id}."), 404
    _log_change(f"deleted subscription {subscription_id}")
    return _triggers_page(done=f"Subscription {subscription_id} deleted."), 200


@blueprint.post("/triggers/dead/<int:letter_id>/retry")
def retry_dead_letter(letter_id: int) -> tuple[str, int]:
    found = current_app.extensions.get(TRIGGERS_EXTENSION)
    letters = found.store.dead_letters(_DEAD_LETTERS) if found is not None else []
    letter = next((d for d in letters if d.id == letter_id), None)
    if found is None or letter is None:
        return _triggers_page(error=f"There is no dead letter {letter_id}."), 404
    if found.store.get(letter.subscription) is None:
        return _triggers_page(error=f"Subscription {letter.subscription} is gone."), 409
    # As a new event of its own id: a second click while the first is remembered does nothing.
    queued = found.store.enqueue(f"console-retry:{letter.id}",
                                 [(letter.subscription, letter.body)], time.time())
    found.worker.wake()
    _log_change(f"queued dead letter {letter.id} again")
    state = "queued again" if queued else "was already queued again"
    return _triggers_page(done=f"Dead letter {letter.id} {state}."), 200


def _triggers_page(*, error: str | None = None, done: str | None = None) -> str:
    store = _trigger_store()
    keep = Filter(status="")
    polls = [line for line in console().activity.recent(keep, _ACTIVITY_LIMIT)
             if "/$triggers/" in line.path and line.method == "GET"]
    return _render("triggers.html", "triggers", error=error, done=done,
                   subscriptions=store.all() if store else [],
                   dead=store.dead_letters(_DEAD_LETTERS) if store else [], polls=polls,
                   enabled=store is not None)


def _trigger_store() -> TriggerStore | None:
    found = current_app.extensions.get(TRIGGERS_EXTENSION)
    return found.store if found is not None else None


@blueprint.get("/explain")
def explain() -> str | tuple[str, int]:
    c = console()
    args = request.args
    chosen = args.get("set", "")
    values = {"chosen": chosen, "filter": args.get("filter", ""),
              "orderby": args.get("orderby", "")}
    try:
        model = c.gateway.models.get()
    except ModelUnavailable as exc:
        return _render("explain.html", "explain", error=str(exc), sets=[], **values), 503
    sets = sorted(name for name, s in model.entity_sets.items())
    if not chosen:
        return _render("explain.html", "explain", sets=sets, **values)
    try:
        result = explained(c, model, chosen, values["filter"], values["orderby"])
    except (ODataError, UnknownName, KintoneError) as exc:
        return _render("explain.html", "explain", sets=sets, error=_message(exc), **values), 400
    return _render("explain.html", "explain", sets=sets, result=result, **values)


@blueprint.get("/metrics")
def metrics() -> str:
    return _render("metrics.html", "metrics", width=WIDTH, height=HEIGHT,
                   charts=charts(console().activity.minutes(time.time())))


@blueprint.get("/settings")
def settings() -> str:
    return _render("settings.html", "settings", rows=effective(console().settings))


@blueprint.app_template_filter("callback_host")
def callback_host(url: str) -> str:
    """Only the host of a callback: its URL carries the platform's signature, a secret."""
    return urlsplit(url).hostname or "?"


# -- helpers ---------------------------------------------------------------------------------

def _render(template: str, page: str, **values: object) -> str:
    session: Session | None = g.get(_SESSION)
    return render_template(template, page=page, session=session, **values)


def _page_error(status: int, message: str) -> Response:
    return Response(render_template("error.html", status=status, message=message, session=None),
                    status, content_type="text/html; charset=utf-8")


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:  # browsers send it with every POST; other clients must hold a session
        return True
    own = {request.host_url.rstrip("/")}
    public = console().settings.gateway.public_url
    if public:
        own.add("/".join(public.split("/")[:3]))
    return origin in own


def _secure() -> bool:
    public = console().settings.gateway.public_url or ""
    return request.is_secure or public.startswith("https:")


def _service_root(c: Console) -> str:
    base = c.settings.gateway.public_url or request.host_url.rstrip("/")
    return base + SERVICE_PATH


def _message(exc: Exception) -> str:
    if isinstance(exc, ODataError):
        return exc.message
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


def _log_change(what: str) -> None:
    session: Session | None = g.get(_SESSION)
    log.info("Console: %s %s.", session.user.name if session else "?", what)


def _note_user(name: str) -> None:
    entry = current_entry()
    if entry is not None:
        entry.user = name
