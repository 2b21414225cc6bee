"""The admin console at ``/console/``: status, apps and their URLs, users, activity, query
explain, triggers and settings, as server-rendered pages (Flask's Jinja templates, one small
stylesheet and one small script of our own; no build step, no CDN, a strict CSP).

Who may use it: users with every right on every entity set (``*:*``), from the addresses of
``[Console] AllowedIPs`` (loopback by default) - which must also pass ``[Security] AllowedIPs``.
They log in with their authtoken once; a session cookie (see ``session``) carries them on.

``register(app, services, guard, ops)`` installs it (``create_app`` calls it last).
Nothing else in the gateway imports this package.
"""

from __future__ import annotations

import time

from flask import Flask

from ..http.context import Gateway
from ..ops import Ops
from ..security import allow_anonymous
from ..security.flags import flag
from ..security.guard import Guard
from ..security.ipallow import DEFAULT_ALLOWED, AddressList
from .activity import Activity
from .context import EXTENSION, Console
from .session import Sessions
from .views import blueprint

SECTION = "Console"

__all__ = ["register"]


def register(app: Flask, gateway: Gateway, guard: Guard, ops: Ops) -> Console | None:
    """Serve the console on ``app`` unless ``[Console] Enabled = false``."""
    section = gateway.settings.section(SECTION)
    if not flag(section, "Enabled", True) or EXTENSION in app.extensions:
        return app.extensions.get(EXTENSION)
    try:
        allowed = AddressList.parse(section.get_list("AllowedIPs") or DEFAULT_ALLOWED)
    except ValueError as exc:
        raise section.error("AllowedIPs", str(exc)) from None
    activity = Activity(section.get_int("ActivityLines", 1000, minimum=10, maximum=100_000))
    activity.subscribe(gateway.client.events)
    console = Console(
        gateway=gateway, guard=guard, ops=ops,
        sessions=Sessions(guard.authenticator,
                          section.get_int("IdleTimeout", 900, minimum=1, maximum=86_400)),
        allowed=allowed,
        logins_per_hour=section.get_int("LoginAttemptsPerHour", 10, minimum=1,
                                        maximum=10_000),
        activity=activity, started=time.time())
    app.extensions[EXTENSION] = console
    app.register_blueprint(blueprint)
    # The console checks its own session; the guard still checks the address and body size.
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(f"{blueprint.name}."):
            allow_anonymous(app, rule.endpoint)
    return console
