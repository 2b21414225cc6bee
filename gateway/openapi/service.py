"""Serving the documents: what the views share, kept on the Flask application."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask import Response, current_app, request

from ..model import Model, UnknownName
from ..odata.documents import Documents, revalidated
from ..odata.errors import ODataError, bad_request
from ..security.ipallow import AddressList
from ..settings import Settings
from .dynamic import build_dynamic
from .examples import ExampleRecords
from .oas3 import to_openapi3
from .origin import Origin, RequestView, origin
from .process_states import ProcessStates
from .swagger2 import OwnSpec, build_swagger2, select_sets

EXTENSION = "kintone_gateway.openapi"


@dataclass(frozen=True)
class DocumentService:
    settings: Settings
    models: Callable[[], Model]  # the current model of what the caller may use
    proxies: AddressList  # [Security] TrustedProxies
    own: OwnSpec
    webhooks: bool  # [Triggers] WebhookSecret is set: the webhook triggers work
    max_bytes: int  # [Application] MaxApiDocumentBytes of a Swagger 2.0 document; 0: no limit
    processes: ProcessStates  # the apps' process states and actions
    examples: ExampleRecords  # the records whose values illustrate their apps' schemas
    documents: Documents = field(default_factory=Documents)  # the typed ones, per model

    def respond(self, version: str, sets: Sequence[str] | None, token: str | None, *,
                dynamic: bool = False) -> Response:
        """The document, with a strong ETag (304 when the client has it), built once per model
        (each set of rights has its own), origin, version and sets."""
        where = origin(self.settings.gateway.public_url, self.proxies, _request_view(), token)
        model, names = self.models(), _names(sets)
        if dynamic:  # the same whatever the apps; kept with the model all the same
            document = self.documents.get(model, (where, version, "dynamic"), lambda: _dumps(
                _versioned(build_dynamic(where, self.own.error_definitions(),
                                         webhooks=self.webhooks), version)))
        else:
            document = self.documents.get(
                model, (where, version, tuple(names or ())),
                lambda: _dumps(_versioned(self._typed(model, where, names), version)))
        if self.max_bytes and not version.startswith("3") and len(document.body) > self.max_bytes:
            raise too_large(len(document.body), self.max_bytes)
        response = Response(document.body, mimetype="application/json")
        return revalidated(response, document, request, token_in_url=token is not None)

    def _typed(self, model: Model, where: Origin, names: list[str] | None) -> dict:
        try:
            return build_swagger2(model, where, self.own, names, webhooks=self.webhooks,
                                  processes=self.processes.of(model, select_sets(model, names)),
                                  examples=self.examples)
        except UnknownName as exc:
            raise bad_request(f"sets: {exc.args[0]}", "sets") from None


def _versioned(doc: dict, version: str) -> dict:
    return to_openapi3(doc) if version.startswith("3") else doc


def _dumps(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def too_large(size: int, limit: int) -> ODataError:
    """Power Automate refuses a definition over 1 MB: say so, and what to use instead."""
    return ODataError.of("DocumentTooLarge", "sets", size=size, limit=limit)


def _names(sets: Sequence[str] | None) -> list[str] | None:
    names = [name.strip() for name in sets or () if name.strip()]
    return names or None


def _request_view() -> RequestView:
    return RequestView(
        scheme=request.scheme, host=request.host, remote_addr=request.remote_addr,
        forwarded_proto=request.headers.get("X-Forwarded-Proto"),
        forwarded_host=request.headers.get("X-Forwarded-Host"),
    )


def current() -> DocumentService:
    return current_app.extensions[EXTENSION]
