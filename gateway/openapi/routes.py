"""``register``: puts the API documents and the Swagger UI page on the gateway's Flask app.

URLs (all also under ``/api.rsc/@<authtoken>/``, where the document's ``basePath`` keeps the
token so that every call made from it carries the token too):

* ``/api.rsc/$oas``: Swagger 2.0; ``?version=3`` for OpenAPI 3.1; ``?sets=A,B`` for some sets;
* ``/api.rsc/$swagger``: the same (the URL CData API Server users already have in their flows);
* ``/api.rsc/$docs/``: Swagger UI.

The documents carry ``Access-Control-Allow-Origin: *``: Power Automate's designer fetches them
from the browser, anonymously, and refuses a document without CORS.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from ..model import Model
from ..security import serve_documents
from ..settings import Settings
from ..triggers.config import TriggerSettings
from . import own_api, record_schemas, ui
from .examples import ExampleRecords
from .origin import trusted_proxies
from .process_states import Process, ProcessStates
from .service import EXTENSION, DocumentService

MAX_DOCUMENT_BYTES = 1_000_000  # Power Automate's limit on a custom connector's definition


def register(app: Flask, settings: Settings, models: Callable[[], Model],
             process: Process | None = None, examples: ExampleRecords | None = None) -> None:
    """Serve the documents of the model ``models()`` returns (called per request, so it can be
    a cache's ``get`` or a function narrowing the model to what the caller may use);
    ``process(app id)`` gives an app's process management settings (Kintone's app/status),
    whose states the record schemas offer as the Status field's values (and actions as the
    process action's); ``examples`` are records whose values illustrate their apps' schemas
    (the demo's: real data never goes into a document by default)."""
    webhooks = TriggerSettings.from_settings(settings).webhook_secret is not None
    max_bytes = settings.section("Application").get_int(
        "MaxApiDocumentBytes", MAX_DOCUMENT_BYTES, minimum=0, maximum=2**31)
    app.extensions[EXTENSION] = DocumentService(settings, models, trusted_proxies(settings),
                                                own_api.own_spec(), webhooks, max_bytes,
                                                ProcessStates(process), examples or {})
    for blueprint in (own_api.blueprint, own_api.aliases, ui.blueprint,
                      record_schemas.blueprint):
        app.register_blueprint(blueprint)
    serve_documents(app, *own_api.ENDPOINTS)
