"""Running the gateway for real: health and readiness probes, Prometheus metrics, request ids in
structured logs, and the state several instances share in Redis (``[Cluster]``).

``register(app, settings)`` installs it all on the app ``web.create_app`` builds, after the
security layer. The process around it (gunicorn, its settings and logging) is
``gateway.ops.gunicorn_conf``; ``kintone-gateway serve`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request

from ..model import ModelCache
from ..security import EXTENSION as SECURITY_EXTENSION
from ..settings import Settings
from ..web.context import EXTENSION as WEB_EXTENSION
from ..web.context import Gateway
from . import health, logs, metrics
from .cluster import Cluster, install
from .metrics import UNMATCHED, Metrics
from .middleware import ROUTE_KEY, OpsMiddleware

EXTENSION = "kintone_gateway.ops"

__all__ = ["Ops", "register"]


@dataclass(frozen=True)
class Ops:
    metrics: Metrics
    readiness: health.Readiness
    models: ModelCache
    cluster: Cluster | None  # None: a single instance

    def invalidate_schema(self) -> None:
        """Make this instance, and every other one when clustered, read the apps' fields again
        (e.g. after an app was deployed)."""
        if self.cluster is None:
            self.models.invalidate()
        else:
            self.cluster.schema.invalidate()


def register(app: Flask, settings: Settings) -> Ops:
    """Install probes, metrics, request ids and the cluster's shared state on ``app``; call it
    in ``create_app`` after ``security.register``. A second call changes nothing."""
    if EXTENSION in app.extensions:
        return app.extensions[EXTENSION]
    gateway: Gateway = app.extensions[WEB_EXTENSION]
    guard = app.extensions[SECURITY_EXTENSION]
    cluster = install(app, settings, gateway.client, gateway.models, guard)
    counted = Metrics()
    counted.subscribe(gateway.client.events)
    logs.subscribe(gateway.client.events)
    readiness = health.Readiness(settings.kintone, cluster.ping if cluster else None)
    ops = Ops(counted, readiness, gateway.models, cluster)
    app.extensions.update({EXTENSION: ops, metrics.EXTENSION: counted,
                           health.EXTENSION: readiness})
    app.register_blueprint(health.blueprint)
    app.register_blueprint(metrics.blueprint)
    # Ahead of every hook, the security layer's address check included.
    app.before_request_funcs.setdefault(None, []).insert(0, health.serve_probe)
    app.before_request_funcs[None].insert(0, _note_route)
    app.wsgi_app = OpsMiddleware(app.wsgi_app, counted)
    return ops


def _note_route() -> None:
    """The matched URL rule, for the metrics' route label (a low-cardinality name)."""
    rule = request.url_rule
    request.environ[ROUTE_KEY] = rule.rule if rule is not None else UNMATCHED
