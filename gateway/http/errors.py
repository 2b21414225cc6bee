"""Every failure as an OData JSON error with the status a client can act on, never a trace.

Each is an entry of the error catalogue (``gateway.odata.catalog``); Kintone's failures are
translated by ``gateway.odata.kintone_errors.from_kintone``.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from ..kintone import KintoneError
from ..kintone.cursors import CursorsBusy
from ..model import ModelUnavailable, UnknownName
from ..odata.catalog import CATALOG
from ..odata.errors import Answer, ODataError, not_found, retry_after
from ..odata.kintone_errors import from_kintone
from .cost import ClientGone

log = logging.getLogger("gateway.web")


def register(app: Flask) -> None:
    app.register_error_handler(ODataError, ODataError.reply)
    app.register_error_handler(KintoneError, _kintone)
    app.register_error_handler(ModelUnavailable, _model_unavailable)
    app.register_error_handler(UnknownName, _unknown_name)
    app.register_error_handler(ClientGone, _client_gone)
    app.register_error_handler(CursorsBusy, _cursors_busy)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)


def _kintone(error: KintoneError) -> Answer:
    log.warning("Kintone call failed: %s", error)
    return from_kintone(error).reply()


def _model_unavailable(error: ModelUnavailable) -> Answer:
    cause = error.__cause__
    if isinstance(cause, KintoneError):
        return _kintone(cause)
    log.error("The model of the Kintone apps could not be loaded", exc_info=cause)
    return ODataError.of("ModelUnavailable").reply()


def _unknown_name(error: UnknownName) -> Answer:
    return not_found(str(error.args[0]) if error.args else "Not found.").reply()


def _http(error: HTTPException) -> Answer:
    """Werkzeug's own refusals (no route, a body too large while read ...), by their names."""
    name = error.name.replace(" ", "")
    if name not in CATALOG or CATALOG[name].status != error.code:  # one to add to the catalogue
        return _unexpected(error)
    allow = error.get_response().headers.get("Allow") if error.code == 405 else None
    return ODataError.of(name, message=error.description or error.name,
                         headers={"Allow": allow} if allow else None).reply()


def _cursors_busy(error: CursorsBusy) -> Answer:
    return ODataError.of("TooManyCursors", message=error.message,
                         headers=retry_after(error.retry_after)).reply()


def _client_gone(_error: ClientGone) -> Response:
    # Nobody reads it: a status for the audit log (nginx's "client closed request").
    log.info("The client went away; its request was stopped")
    return Response(status=499)


def _unexpected(error: Exception) -> Answer:
    log.exception("Unexpected error while serving a request", exc_info=error)
    return ODataError.of("InternalError", message="An unexpected error occurred; it has been "
                         "logged.").reply()
