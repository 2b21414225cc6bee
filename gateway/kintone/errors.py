"""Typed exceptions for every way a Kintone call can fail.

The class follows the HTTP status (and a few codes Kintone answers with an odd status), so the
web layer can map a failure to its own status without knowing Kintone's codes. Messages come
from Kintone, or from this package; neither ever contains a credential.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import orjson
import urllib3

# Authentication failures Kintone does not answer with 401 (an unknown API token is a 400).
_AUTH_CODES = frozenset({"CB_WA01", "CB_AU01", "GAIA_IA02"})


class KintoneError(Exception):
    """A failed Kintone call: HTTP ``status``, Kintone ``code`` (None when the answer had none),
    ``message``, validation ``errors`` (error key -> messages) and Kintone's ``error_id``."""

    def __init__(self, status: int, code: str | None, message: str, *,
                 errors: Mapping[str, tuple[str, ...]] | None = None,
                 error_id: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message
        self.errors: Mapping[str, tuple[str, ...]] = MappingProxyType(dict(errors or {}))
        self.error_id = error_id
        self.retry_after = retry_after  # seconds, from a Retry-After header

    def __str__(self) -> str:
        return f"{self.status} {self.code or '-'}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r}, {self.message!r})"

    def shifted(self, offset: int) -> KintoneError:
        """The same error with ``records[i]`` keys renumbered by ``offset``: a chunk of a large
        write reports indexes within the chunk, callers want them within the whole write."""
        errors = {_shift_key(key, offset): msgs for key, msgs in self.errors.items()}
        return type(self)(self.status, self.code, self.message, errors=errors,
                          error_id=self.error_id, retry_after=self.retry_after)


class KintoneBadRequest(KintoneError):
    """400: the request was refused as invalid (query syntax, unknown field, limits...)."""


class KintoneValidationError(KintoneBadRequest):
    """CB_VA01: invalid input, with per-field messages in ``errors``."""


class KintoneAuthError(KintoneError):
    """The credentials were refused (401, CB_WA01, CB_AU01, GAIA_IA02, the Basic layer)."""


class KintonePermissionError(KintoneError):
    """403: authenticated, but not allowed (CB_NO02, GAIA_NO01)."""


class KintoneTokenMissing(KintonePermissionError):
    """Not sent: the call needs the API token of an app the settings have none for (the message
    names the app and, for a lookup's source app, the field)."""


class KintoneNotFound(KintoneError):
    """404: no such app (GAIA_AP01), record (GAIA_RE01), cursor (GAIA_CN01), API..."""


class KintoneConflict(KintoneError):
    """409: a revision did not match (GAIA_CO02) or the database was locked."""


class KintoneThrottled(KintoneError):
    """429: too many concurrent requests (GAIA_TO04) or cursors (GAIA_TM12), after retries."""


class KintoneUnavailable(KintoneError):
    """5xx, a non-JSON answer, or no answer at all (connection errors), after retries."""


_BY_STATUS: dict[int, type[KintoneError]] = {
    400: KintoneBadRequest,
    401: KintoneAuthError,
    403: KintonePermissionError,
    404: KintoneNotFound,
    409: KintoneConflict,
    429: KintoneThrottled,
}


def error_class(status: int, code: str | None) -> type[KintoneError]:
    if code in _AUTH_CODES:
        return KintoneAuthError
    if code == "CB_VA01":
        return KintoneValidationError
    if status >= 500:
        return KintoneUnavailable
    return _BY_STATUS.get(status, KintoneError)


def from_response(response: urllib3.BaseHTTPResponse) -> KintoneError:
    """The exception for a non-200 answer, whatever its body."""
    status = response.status
    try:
        body = orjson.loads(response.data)
    except ValueError:
        body = None
    found = _error_body(body)
    if found is None:
        return _not_kintone_json(response)
    body, where = found
    code = str(body["code"])
    return error_class(status, code)(
        status, code, where + str(body.get("message", "")),
        errors=_errors_map(body.get("errors")), error_id=body.get("id"),
        retry_after=_retry_after(response),
    )


def _error_body(body: object) -> tuple[dict, str] | None:
    """Kintone's ``{code, id, message[, errors]}``, and where it was: a bulkRequest answers
    ``{"results": [{}, {code, ...}, {}]}`` with the error of the sub-request that failed."""
    if not isinstance(body, dict):
        return None
    if "code" in body:
        return body, ""
    results = body.get("results")
    for index, result in enumerate(results if isinstance(results, list) else []):
        if isinstance(result, dict) and "code" in result:
            return result, f"Bulk request {index}: "
    return None


def _not_kintone_json(response: urllib3.BaseHTTPResponse) -> KintoneError:
    """Answers from something in front of Kintone: the Basic layer, a proxy, maintenance pages."""
    status = response.status
    if status == 401:
        return KintoneAuthError(status, None, "Refused by the domain's Basic authentication "
                                "(check BasicAuthUser and BasicAuthPassword).")
    cls = KintoneUnavailable if status >= 500 or status < 400 else error_class(status, None)
    return cls(status, None, f"Kintone answered HTTP {status} without a Kintone JSON body.")


def _retry_after(response: urllib3.BaseHTTPResponse) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _errors_map(raw: object) -> dict[str, tuple[str, ...]]:
    """``{"key": {"messages": [...]}}`` -> ``{"key": (...)}``."""
    if not isinstance(raw, dict):
        return {}
    return {
        str(key): tuple(str(m) for m in (value or {}).get("messages", []))
        for key, value in raw.items()
        if isinstance(value, dict) or value is None
    }


_RECORDS_INDEX = re.compile(r"^records\[(\d+)\]")


def _shift_key(key: str, offset: int) -> str:
    return _RECORDS_INDEX.sub(lambda m: f"records[{int(m.group(1)) + offset}]", key)
