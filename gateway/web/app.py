"""The gateway's Flask application."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import Flask, Response, has_app_context

from .. import console, openapi, ops, security, triggers, writes
from ..kintone import KintoneClient
from ..service import CallBudget, Reader, SkipTokens, model_cache
from ..settings import Settings
from . import cost, errors, methods, routes
from .context import EXTENSION, Gateway
from .described import DescribedModels

if TYPE_CHECKING:
    from ..openapi.examples import ExampleRecords

ODATA_VERSION = "4.0"


def create_app(settings: Settings, *, client: KintoneClient | None = None,
               examples: ExampleRecords | None = None) -> Flask:
    """The gateway in front of the Kintone of ``settings`` (or of ``client``, e.g. in tests);
    ``examples``: records whose values the API documents show (see ``openapi.register``)."""
    client = client or KintoneClient(settings.kintone)
    client.observe(security.count_kintone_call)
    limits = settings.gateway
    client.guard(cost.guard(limits.max_calls_per_request))
    client.cursors.owner = _reader
    app = Flask(__name__)
    app.json.sort_keys = False  # OData clients expect "@odata.context" first
    app.json.ensure_ascii = False
    models = model_cache(client, settings)
    gateway = Gateway(
        settings=settings,
        client=client,
        models=models,
        reader=Reader(client, settings.kintone, SkipTokens.from_settings(settings),
                      CallBudget(limits.calls_per_page, limits.max_calls_per_request,
                                 cost.spent(limits.max_calls_per_request))),
        described=DescribedModels(models.get),
    )
    app.extensions[EXTENSION] = gateway
    app.register_blueprint(routes.blueprint)
    errors.register(app)
    security.register(app, settings)  # its address check goes before every other hook
    methods.register(app)  # after authentication, before the views
    writes.register(app, settings, client, gateway.models.get)
    openapi.register(app, settings, gateway.described.get, client.get_process_settings,
                     examples)
    triggers.register(app, settings, client, gateway.models.get)
    ops.register(app, settings)  # after security.register: it uses the guard
    console.register(app, settings)  # after ops.register: it shows its state
    app.after_request(_odata_version)
    app.after_request(_ascii_headers)
    return app


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
