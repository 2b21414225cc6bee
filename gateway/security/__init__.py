"""Who may call the gateway: IP allowlist, CORS, authtokens, per-user rights and rate limits,
the audit log and hardening. ``register(app, settings)`` installs it all on a Flask app.

The resource layer asks for rights with ``require(method, entity_set_name)`` (or ``can``);
``current_user()`` is the authenticated ``User``. Refusals are published on the app's event
stream, whose Kintone calls are counted in each request's audit line.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from ..events import Stream
from ..settings import DEFAULT_PATH, PATH_VARIABLE, Settings
from . import audit
from .audit import AuditMiddleware
from .authn import Authenticator
from .errors import Refusal
from .guard import IN_BATCH, Guard, current_user
from .hardening import warn_if_exposed
from .provision import add_user
from .ratelimit import GcraBackend, SlotBackend
from .redaction import redact_request_logs
from .rights import FULL, READ_ONLY, Rights
from .tokens import key_file
from .users import User, UserStore

__all__ = ["FULL", "IN_BATCH", "READ_ONLY", "Rights", "User", "add_user", "allow_anonymous", "can",
           "current_user", "refusal", "register", "require",
           "serve_documents",
           "warn_if_exposed"]

log = logging.getLogger("gateway.security")
EXTENSION = "kintone_gateway.security"


def register(app: Flask, settings: Settings, events: Stream, *,
             clock: Callable[[], float] = time.time,
             hourly: GcraBackend | None = None, running: SlotBackend | None = None) -> Guard:
    """Install every check on ``app``: its request hook (appended: ``create_app`` decides
    what runs before it), after-request hook, teardown and audit middleware. Refusals are
    published on ``events``, and its Kintone calls counted in the audit log.

    ``clock`` (seconds since the epoch) drives token expiry and rate limits; tests pass their
    own to move through an hour at once. ``hourly`` and ``running`` are the rate limits'
    backends (default: in this process). A second call on the same app changes nothing.
    """
    if EXTENSION in app.extensions:
        return app.extensions[EXTENSION]
    users = UserStore(settings)
    guard = Guard.from_settings(settings, Authenticator(settings, users, clock), clock, events,
                                hourly=hourly, running=running)
    if not users.all():
        log.warning("No users are defined: every call will be refused. Add one with "
                    "'kintone-gateway users add NAME'.")
    app.extensions[EXTENSION] = guard
    app.config["MAX_CONTENT_LENGTH"] = guard.max_body
    app.before_request(guard.before)
    app.after_request(guard.after)
    app.teardown_request(guard.teardown)
    app.register_error_handler(Refusal, Refusal.reply)
    # Flask's documented way to add WSGI middleware; mypy reads wsgi_app as a method.
    app.wsgi_app = AuditMiddleware(app.wsgi_app, events)  # type: ignore[method-assign]
    audit.subscribe(events)
    redact_request_logs()
    warn_if_exposed([_settings_file(), users.path, key_file(settings.section("Security"))])
    return guard


def refusal(app: Flask) -> Callable[[str, str, str], str | None]:
    """``refusal(user, method, entity_set)``: why the user may not use the method on the set
    now (None: it may), for work done on a user's behalf outside any request."""
    return app.extensions[EXTENSION].authenticator.refusal


def require(method: str, entity_set: str, why: str = "") -> None:
    """Raise an OData 403 unless the current user may use ``method`` on ``entity_set``;
    ``why`` says why the method is needed when the request used another."""
    if not can(method, entity_set):
        user = current_user()
        name = user.name if user else "(none)"
        raise Refusal.of("AccessDenied", entity_set, message=f"User {name} may not use "
                         f"{method.upper()} on {entity_set}{why}.")


def can(method: str, entity_set: str) -> bool:
    user = current_user()
    return user is not None and user.rights.allows(method, entity_set)


def _settings_file() -> Path:
    return Path(os.environ.get(PATH_VARIABLE) or DEFAULT_PATH)


def serve_documents(app: Flask, *endpoints: str) -> None:
    """Mark the endpoints serving the API documents: they accept document-only capability URLs
    (and no authtoken at all with ``[Application] PublicApiDocument``), and answer any origin's
    CORS preflight."""
    app.extensions[EXTENSION].documents.endpoints.update(endpoints)


def allow_anonymous(app: Flask, endpoint: str) -> None:
    """Let callers reach ``endpoint`` (a Flask endpoint name) without an authtoken: for callers
    that cannot send one, such as Kintone's webhooks, whose endpoint checks its own secret."""
    app.extensions[EXTENSION].anonymous.add(endpoint)
