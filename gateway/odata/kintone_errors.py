"""Kintone's failures as OData errors, with the status a client can act on.

Credentials refused (401, 403) → 502, since the client cannot fix the gateway's credentials;
throttled, down or unreachable (after the client's retries) → 503 with ``Retry-After`` when
Kintone gave one; no such record or app → 404; a query Kintone refused (400) → 400; anything
else → 502. Kintone's own code and message are in ``details`` for the gateway's administrator
(``kintone_detail``); writes map some codes further (``gateway.writes.errors``).
"""

from __future__ import annotations

from ..kintone.errors import (
    KintoneAuthError,
    KintoneBadRequest,
    KintoneError,
    KintoneNotFound,
    KintonePermissionError,
    KintoneThrottled,
    KintoneTokenMissing,
    KintoneUnavailable,
)
from .errors import ODataError, retry_after

KINTONE = "kintone"  # the target of the detail that carries Kintone's answer


def kintone_detail(error: KintoneError) -> dict[str, str]:
    """Kintone's code (``HTTP<status>`` when it gave none) and message, as an error detail."""
    return {"code": error.code or f"HTTP{error.status}", "message": error.message,
            "target": KINTONE}


def from_kintone(error: KintoneError) -> ODataError:
    odata = _translated(error, [kintone_detail(error)])
    if error.retry_after is not None:
        odata.headers.update(retry_after(error.retry_after))
    return odata


def _translated(error: KintoneError, details: list[dict]) -> ODataError:
    if isinstance(error, KintoneTokenMissing):
        return ODataError.of("KintoneTokenMissing", details=details, message=error.message)
    if isinstance(error, KintoneAuthError | KintonePermissionError):
        return ODataError.of("KintoneAccessDenied", details=details)
    if isinstance(error, KintoneThrottled | KintoneUnavailable):
        return ODataError.of("KintoneUnavailable", details=details)
    if isinstance(error, KintoneNotFound):
        return ODataError.of("NotFound", details=details, message=f"Kintone: {error.message}")
    if isinstance(error, KintoneBadRequest):
        return ODataError.of("KintoneRejectedQuery", details=details, message=error.message)
    return ODataError.of("KintoneError", details=details, message=error.message)
