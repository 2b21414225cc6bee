"""Running the gateway for real: health and readiness probes, Prometheus metrics, request ids in
structured logs, and the state several instances share in Redis (``[Cluster]``).

``web.create_app`` wires it: ``cluster.connect`` for the shared state, ``note_route`` and
``health.serve_probe`` first of the request hooks, ``OpsMiddleware`` around the whole app, and
``register`` for the probe and metrics views. The process around it (gunicorn, its settings
and logging) is ``gateway.ops.gunicorn_conf``; ``kintone-gateway serve`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request

from ..model import ModelCache
from ..settings import Settings
from . import health, metrics
from .cluster import Cluster
from .metrics import UNMATCHED, Metrics, QueueDepth
from .middleware import ROUTE_KEY

EXTENSION = "kintone_gateway.ops"

__all__ = ["Ops", "note_route", "register"]


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


def register(app: Flask, settings: Settings, counted: Metrics, models: ModelCache,
             cluster: Cluster | None, queue: QueueDepth | None) -> Ops:
    """Serve the probes and ``/metrics`` (``queue``: the trigger delivery queue whose depth a
    scrape reads). Its hooks and middleware are installed by ``create_app``."""
    readiness = health.Readiness(settings.kintone, cluster.ping if cluster else None)
    ops = Ops(counted, readiness, models, cluster)
    app.extensions.update({EXTENSION: ops, metrics.EXTENSION: counted,
                           metrics.QUEUE_EXTENSION: queue, health.EXTENSION: readiness})
    app.register_blueprint(health.blueprint)
    app.register_blueprint(metrics.blueprint)
    return ops


def note_route() -> None:
    """The matched URL rule, for the metrics' route label (a low-cardinality name)."""
    rule = request.url_rule
    request.environ[ROUTE_KEY] = rule.rule if rule is not None else UNMATCHED
