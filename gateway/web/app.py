"""The gateway's Flask application: the one place where its parts are built and wired.

``create_app`` builds the services, then reads top to bottom as a request's path: the request
hooks in the order they run, the views, the after-request hooks in the order they run, the error
handlers, and last the WSGI middleware wrapped around all of it (outermost last).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

import redis
from flask import Flask, Response, has_app_context
from flask.json.provider import DefaultJSONProvider

from .. import console, openapi, ops, security, triggers, writes
from ..http import cost, errors
from ..http.context import EXTENSION, Gateway
from ..http.described import DescribedModels
from ..kintone import KintoneClient
from ..ops import cluster as clusters
from ..ops import health, logs
from ..ops.metrics import Metrics
from ..ops.middleware import OpsMiddleware
from ..security.ratelimit import MemoryGcra, MemorySlots
from ..service import CallBudget, Reader, SkipTokens, model_cache
from ..settings import Settings
from . import methods, routes, timing

if TYPE_CHECKING:
    from ..openapi.examples import ExampleRecords

ODATA_VERSION = "4.0"


def create_app(settings: Settings, *, client: KintoneClient | None = None,
               examples: ExampleRecords | None = None) -> Flask:
    """The gateway in front of the Kintone of ``settings`` (or of ``client``, e.g. in tests);
    ``examples``: records whose values the API documents show (see ``openapi.register``)."""
    limits = settings.gateway
    client = client or KintoneClient(settings.kintone)
    events = client.events  # the app's one observation stream (gateway.events)
    client.guard(cost.guard(limits.max_calls_per_request))
    client.cursors.owner = _reader
    snapshots = clusters.schema_store(settings)  # None: the model is this instance's alone
    models = model_cache(client, settings, snapshots)
    services = Gateway(
        settings=settings,
        client=client,
        models=models,
        reader=Reader(client, settings.kintone, SkipTokens.from_settings(settings),
                      CallBudget(limits.calls_per_page, limits.max_calls_per_request,
                                 cost.counter(limits.max_calls_per_request))),
        described=DescribedModels(models.get),
    )
    cluster = clusters.connect(settings, models, snapshots)  # None: a single instance
    if cluster is not None:
        client.share_slots(cluster.kintone_slots)
        client.cursors.share(cluster.cursor_slots)
    counted = Metrics()
    counted.subscribe(events)
    logs.subscribe(events)
    timing.measure_kintone(events)  # Server-Timing's kintone metric

    app = Flask(__name__)
    app.json = _ODataJSON(app)
    app.extensions[EXTENSION] = services

    # Before the views, in this order:
    app.before_request(ops.note_route)  # the route label of the metrics
    app.before_request(health.serve_probe)  # probes: an allowed address is all they need
    guard = security.register(  # address, body size, authtoken, CORS, rate limits; its
        # after-request hook, teardown and the audit log's middleware come with it
        app, settings, events,
        hourly=cluster.rates if cluster else MemoryGcra(),
        running=cluster.user_slots if cluster else MemorySlots())
    app.before_request(methods.check)  # 405 and OPTIONS, per resource
    if cluster is not None:
        app.before_request(cluster.schema.sync)  # another instance may have invalidated

    # The views (their blueprints' own hooks run inside these):
    app.register_blueprint(routes.blueprint)  # OData reads
    writes.register(app, services)
    openapi.register(app, settings, services.described.get, client.get_process_settings,
                     examples)
    trigger_ctx = triggers.register(app, services)
    operations = ops.register(app, settings, counted, models, cluster, trigger_ctx.store)
    console.register(app, services, guard, operations)

    # After the views, in this order (Flask runs after-request hooks last registered first;
    # the security layer's, which adds the CORS and hardening headers, runs last):
    _after(app, _ascii_headers, _odata_version)

    errors.register(app)
    if cluster is not None:
        app.register_error_handler(redis.RedisError, clusters.unavailable)
    # Outermost: the request id and metrics see the whole request, the audit line included.
    app.wsgi_app = OpsMiddleware(app.wsgi_app, counted)  # type: ignore[method-assign]
    return app


class _ODataJSON(DefaultJSONProvider):
    sort_keys = False  # OData clients expect "@odata.context" first
    ensure_ascii = False


def _after(app: Flask, *hooks: Callable[[Response], Response]) -> None:
    """Register after-request ``hooks`` to run in the order given."""
    for hook in reversed(hooks):
        app.after_request(hook)


def _reader() -> str | None:
    """The gateway user a cursor is read for (None: no request, e.g. trigger polling)."""
    user = security.current_user() if has_app_context() else None
    return user.name if user is not None else None


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _ascii_headers(response: Response) -> Response:
    """Header values percent-encoded where they are not ASCII (a Location naming a Japanese
    entity set, Kintone-Truncated naming a Japanese property), as an IRI becomes a URI: HTTP
    servers send Latin-1 only and fail on anything else, mid-response."""
    for name, value in list(response.headers.items()):
        if not value.isascii():
            response.headers[name] = _NON_ASCII.sub(lambda m: quote(m.group()), value)
    return response


def _odata_version(response: Response) -> Response:
    # Assignment replaces: Power Query rejects a response with the header twice.
    response.headers["OData-Version"] = ODATA_VERSION
    return response
