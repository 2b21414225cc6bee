"""Triggers for Power Automate and Logic Apps: flows that start when a record is added,
updated or deleted, a comment is posted or a status changes (set-up: ``docs.md``).

URLs (under ``/api.rsc/`` and ``/api.rsc/@<authtoken>/``):

==============================================  ===============================================
``GET $triggers/<Set>/added``                    polling: new records (``triggerState``)
``GET $triggers/<Set>/updated``                  polling: new and changed records
``POST $triggers/<Set>/webhooks/<event>``        subscribe ``{"callbackUrl"}`` → 201, Location;
                                                 events: added, updated, deleted, commented,
                                                 status
``DELETE $triggers/webhooks/<id>``               unsubscribe (the Location above)
``GET $triggers/webhooks[/<id>]``                the caller's subscriptions (every one for
                                                 users with ``*:*``)
``GET $triggers/deadletters``                    notifications given up (users with ``*:*``)
``POST $triggers/kintone/@<WebhookSecret>``      Kintone's webhooks (under ``/api.rsc/`` only)
==============================================  ===============================================

Polling answers 202 with ``Location`` and ``Retry-After`` when nothing is new, 200 with the
records (oldest first) when there are, ``Retry-After: 0`` when more are waiting. Subscriptions
need the GET right on the set; subscribers get each event at least once (``queue``).

Subscriptions, the delivery queue and the state key live in ``[Triggers] Database`` (SQLite),
or in Redis when the gateway is clustered (``[Cluster] Redis``, see ``redis_store``).
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask

from .. import security
from ..http.context import Gateway
from ..ops.cluster import shared_redis
from ..settings import Settings
from .config import TriggerSettings
from .context import EXTENSION, Triggers
from .events import BY_TYPE
from .queue import DeliveryWorker
from .redis_store import RedisTriggerStore
from .routes import blueprint, receive
from .sqlite import SqliteStore
from .state import StateSigner
from .store import Delivery, TriggerStore


def register(app: Flask, services: Gateway, *,
             kintone_clock: Callable[[], datetime] | None = None) -> Triggers:
    """Add the trigger routes to the gateway's app and start its delivery worker.
    ``kintone_clock`` is Kintone's time (default: this machine's; tests pass the sandbox's).
    Calling it again on the same app does nothing."""
    if EXTENSION in app.extensions:
        return app.extensions[EXTENSION]
    settings = services.settings
    config = TriggerSettings.from_settings(settings)
    store = _store(settings, config)
    worker = DeliveryWorker(store, config, _owner_check(security.refusal(app)),
                            events=services.client.events)
    ctx = app.extensions[EXTENSION] = Triggers(
        services=services, config=config, store=store,
        signer=StateSigner.create(config, store), worker=worker,
        kintone_clock=kintone_clock or (lambda: datetime.now(UTC)),
    )
    app.register_blueprint(blueprint)
    security.allow_anonymous(app, f"{blueprint.name}.{receive.__name__}")  # Kintone sends no token
    worker.start()
    atexit.register(worker.stop)
    return ctx


def _owner_check(refusal: Callable[[str, str, str], str | None]
                 ) -> Callable[[Delivery], str | None]:
    """A delivery goes out only while its owner may GET what it shows."""
    def check(delivery: Delivery) -> str | None:
        kind = BY_TYPE.get(delivery.event)
        needed = kind.read_sets(delivery.entity_set) if kind else (delivery.entity_set,)
        return next(filter(None, (refusal(delivery.owner, "GET", name) for name in needed)),
                    None)
    return check


def _store(settings: Settings, config: TriggerSettings) -> TriggerStore:
    """The cluster's Redis when there is one (every instance must see every subscription),
    else ``[Triggers] Database``."""
    shared = shared_redis(settings, "triggers")
    return SqliteStore(config.database) if shared is None else RedisTriggerStore(*shared)


def shutdown(app: Flask) -> None:
    """Stop the delivery worker (pending deliveries stay queued) and close the database."""
    ctx: Triggers | None = app.extensions.get(EXTENSION)
    if ctx is not None:
        ctx.worker.stop()
        ctx.store.close()


__all__ = ["register", "shutdown"]
