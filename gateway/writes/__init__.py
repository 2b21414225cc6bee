"""Writing to Kintone through OData: creates, updates, upserts, deletes, ``$batch``, ``$bulk``
loads, process-management actions, comments and files.

URLs (under ``/api.rsc/`` and ``/api.rsc/@<authtoken>/``):

====================================================  =========================================
``POST /<Set>``                                        create (201 + entity, ``Location``)
``PATCH /<Set>(<Id>)``, ``PUT``, ``DELETE``            merge, replace, delete (``If-Match``)
``PATCH /<Set>(<Key>='v')``, ``PUT``                   upsert by an alternate key
``POST /<Set>/$bulk?mode=..&key=..``                   reverse-ETL load, per-row results
``POST /$batch``                                       JSON or multipart batch, atomicity groups
``POST /<Set>(<Id>)/Kintone.UpdateStatus``             status action
``POST /<Set>(<Id>)/Kintone.SetAssignees``             assignees
``POST /Comments``, ``DELETE /Comments(AppId=..,RecordId=..,Id=..)``
``POST /<Set>(<Id>)/<FileProperty>``                   upload a file into a FILE field
``GET /<Set>(<Id>)/<FileProperty>/<index>/$value``     download a file
====================================================  =========================================

Every POST honours ``Idempotency-Key``. Each module's docstring details its part.
"""

from __future__ import annotations

from flask import Flask

from ..http.context import Gateway
from ..kintone import RetryPolicy
from .context import EXTENSION, Writes
from .idempotency import IdempotencyStore
from .routes import blueprint


def register(app: Flask, services: Gateway, *, retry: RetryPolicy | None = None) -> None:
    """Add the write routes to the gateway's app. ``retry`` paces writes sent again after a
    lost answer (default: the ``[kintone] MaxRetries`` policy). Calling it again on the same app
    does nothing."""
    if EXTENSION in app.extensions:
        return
    settings = services.settings
    app.extensions[EXTENSION] = Writes(
        services=services,
        retry=retry or RetryPolicy(retries=settings.kintone.max_retries),
        idempotency=IdempotencyStore.from_settings(settings),
    )
    app.register_blueprint(blueprint)


__all__ = ["register"]
