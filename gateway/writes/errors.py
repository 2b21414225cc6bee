"""Kintone's answers to a write as OData errors that speak of properties, not field codes.

* CB_VA01 validation errors → 400 ``ValidationFailed``; one ``details`` entry per Kintone error
  key, its ``target`` the OData path (``Price``, ``Items[2]/Qty``), its message Kintone's.
* A revision mismatch (GAIA_CO02) → 412 Precondition Failed: the ``If-Match`` ETag is stale.
* No such record (GAIA_RE01), no record for an update key (GAIA_RE20), no such comment
  (GAIA_RE02) → 404.
* Only the current assignee may run that status action (GAIA_NT01) → 403.
* Other refusals (a read-only field, a lookup value not found, a status action not allowed
  now ...) → 400 ``KintoneRejectedWrite`` with Kintone's message (for a lookup, with a hint:
  Kintone answers a source app the request may not view as a value not found).
* An answer that never came for a write that cannot be repeated safely → 502
  ``WriteOutcomeUnknown``: Kintone may or may not have applied it.
* Anything else as for reads (``gateway.http.errors.from_kintone``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..http.errors import from_kintone
from ..kintone import KintoneBadRequest, KintoneConflict, KintoneError, KintoneValidationError
from ..model import EntitySet, UnknownName
from ..odata.errors import ODataError

REVISION_MISMATCH = "GAIA_CO02"
LOOKUP_NOT_FOUND = "GAIA_LO04"
# Kintone gives one answer for a missing key and for a source app the request may not view.
_LOOKUP_HINT = (" (With API tokens, the gateway's token of the lookup's source app needs the "
                "view right.)")
_NOT_FOUND = frozenset({"GAIA_RE01", "GAIA_RE20", "GAIA_RE02"})
# Refusals about the record, not the gateway's credentials: only the assignee may act.
_FORBIDDEN = frozenset({"GAIA_NT01"})
# `record.code.value`, `record[code].value` (unparseable numbers), `records[3].code.values`,
# `record.table.value[2].value.inner.value`.
_KEY = re.compile(
    r"records?(?:\[(?P<index>\d+)\])?[.\[](?P<code>[^.\[\]]+)\]?"
    r"(?:\.value\[(?P<row>\d+)\]\.value[.\[](?P<inner>[^.\[\]]+))?"
)


@dataclass(frozen=True)
class Problem:
    """One Kintone validation error: the record's index in a multi-record write (None for
    other keys), the OData path of the value and what is wrong."""

    index: int | None
    target: str | None
    message: str

    def detail(self) -> dict:
        detail = {"code": "InvalidValue", "message": self.message}
        if self.target:
            detail["target"] = self.target
        return detail


def problems(entity_set: EntitySet, error: KintoneError) -> list[Problem]:
    return [_problem(entity_set, key, messages) for key, messages in error.errors.items()]


def _problem(entity_set: EntitySet, key: str, messages: tuple[str, ...]) -> Problem:
    text = " ".join(messages)
    match = _KEY.match(key)
    if match is None:
        return Problem(None, key, text)
    index = int(match["index"]) if match["index"] is not None else None
    try:
        prop = entity_set.property_for_code(match["code"])
        target = prop.name
        if match["inner"] is not None and prop.row_type is not None:
            inner = prop.row_type.name_for_code(match["inner"])
            target = f"{prop.name}[{match['row']}]/{inner}"
    except UnknownName:
        target = key  # a field the model does not show; Kintone's key is the best we have
    return Problem(index, target, f"{target}: {text}")


def write_error(entity_set: EntitySet | None, error: KintoneError) -> ODataError:
    """The OData error for a failed write to ``entity_set``."""
    kintone = [{"code": error.code or f"HTTP{error.status}", "message": error.message,
                "target": "kintone"}]
    if isinstance(error, KintoneValidationError) and entity_set is not None and error.errors:
        details = [p.detail() for p in problems(entity_set, error)]
        return ODataError(400, "ValidationFailed", "Kintone refused the values: "
                          + " ".join(d["message"] for d in details), None, details + kintone)
    if isinstance(error, KintoneConflict) and error.code == REVISION_MISMATCH:
        return ODataError(412, "PreconditionFailed", "The record has changed since the ETag "
                          "in If-Match was read; read it again.", None, kintone)
    if error.code in _FORBIDDEN:
        return ODataError(403, "Forbidden", f"Kintone: {error.message}", None, kintone)
    if error.code in _NOT_FOUND:
        return ODataError(404, "NotFound", f"Kintone: {error.message}", None, kintone)
    if isinstance(error, KintoneBadRequest):
        hint = _LOOKUP_HINT if error.code == LOOKUP_NOT_FOUND else ""
        return ODataError(400, "KintoneRejectedWrite", f"Kintone refused the write: "
                          f"{error.message}{hint}", None, kintone)
    return from_kintone(error)


def outcome_unknown(error: KintoneError) -> ODataError:
    return ODataError(502, "WriteOutcomeUnknown", "Kintone did not answer the write, which may "
                      "or may not have been applied: check before sending it again.", None,
                      [{"code": error.code or f"HTTP{error.status}", "message": error.message,
                        "target": "kintone"}])
