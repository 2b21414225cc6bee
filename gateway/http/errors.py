"""Every failure as an OData JSON error with the status a client can act on, never a trace.

Kintone's answers map as follows: credentials refused (401, 403) → 502, since the client cannot
fix the gateway's credentials; throttled, down or unreachable (after the client's retries) → 503
with ``Retry-After`` when Kintone gave one; a query Kintone refused (400) → 400; anything else →
502. Kintone's own error code is in ``details`` for the gateway's administrator.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ..kintone import (
    KintoneAuthError,
    KintoneBadRequest,
    KintoneError,
    KintoneNotFound,
    KintonePermissionError,
    KintoneThrottled,
    KintoneTokenMissing,
    KintoneUnavailable,
)
from ..kintone.cursors import CursorsBusy
from ..model import ModelUnavailable, UnknownName
from ..odata.errors import ODataError, not_found
from .cost import ClientGone

log = logging.getLogger("gateway.web")


def register(app: Flask) -> None:
    app.register_error_handler(ODataError, _odata)
    app.register_error_handler(KintoneError, _kintone)
    app.register_error_handler(ModelUnavailable, _model_unavailable)
    app.register_error_handler(UnknownName, _unknown_name)
    app.register_error_handler(ClientGone, _client_gone)
    app.register_error_handler(CursorsBusy, _cursors_busy)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)


def respond(error: ODataError, retry_after: float | None = None) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
    return response


def _odata(error: ODataError) -> Response:
    return respond(error)


def from_kintone(error: KintoneError) -> ODataError:
    details = [{"code": error.code or f"HTTP{error.status}", "message": error.message,
                "target": "kintone"}]
    if isinstance(error, KintoneTokenMissing):
        return ODataError(502, "KintoneTokenMissing", error.message, None, details)
    if isinstance(error, KintoneAuthError | KintonePermissionError):
        return ODataError(502, "KintoneAccessDenied", "Kintone refused the gateway's "
                          "credentials; check the [kintone] settings.", None, details)
    if isinstance(error, KintoneThrottled | KintoneUnavailable):
        return ODataError(503, "KintoneUnavailable", "Kintone is unavailable or busy; try again "
                          "later.", None, details)
    if isinstance(error, KintoneNotFound):
        return ODataError(404, "NotFound", f"Kintone: {error.message}", None, details)
    if isinstance(error, KintoneBadRequest):
        return ODataError(400, "KintoneRejectedQuery", f"Kintone refused the query: "
                          f"{error.message}", None, details)
    return ODataError(502, "KintoneError", f"Kintone failed: {error.message}", None, details)


def _kintone(error: KintoneError) -> Response:
    log.warning("Kintone call failed: %s", error)
    return respond(from_kintone(error), error.retry_after)


def _model_unavailable(error: ModelUnavailable) -> Response:
    cause = error.__cause__
    if isinstance(cause, KintoneError):
        return _kintone(cause)
    log.error("The model of the Kintone apps could not be loaded", exc_info=cause)
    return respond(ODataError(503, "ModelUnavailable", "The Kintone apps could not be read; "
                              "try again later."))


def _unknown_name(error: UnknownName) -> Response:
    return respond(not_found(str(error.args[0]) if error.args else "Not found."))


def _http(error: HTTPException) -> Response:
    status = error.code or 500
    response = respond(ODataError(status, error.name.replace(" ", ""), error.description or
                                  error.name))
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response


def _cursors_busy(error: CursorsBusy) -> Response:
    return respond(ODataError(429, "TooManyCursors", f"{error.message} Try again shortly, or "
                              "read in Id order (no cursor needed)."), error.retry_after)


def _client_gone(_error: ClientGone) -> Response:
    # Nobody reads it: a status for the audit log (nginx's "client closed request").
    log.info("The client went away; its request was stopped")
    return Response(status=499)


def _unexpected(error: Exception) -> Response:
    log.exception("Unexpected error while serving a request", exc_info=error)
    return respond(ODataError(500, "InternalError", "An unexpected error occurred; it has been "
                              "logged."))
