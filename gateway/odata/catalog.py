"""The error catalogue: every error code the gateway sends, its HTTP status, its message and
when it is sent. Clients act on the code and the status, so both are fixed here, once.

An error is raised by its catalogue name: ``raise ODataError.of("TooManyCursors", message=...)``
(``gateway.odata.errors``). ``docs/errors.md`` is this table written out
(``python3 -m gateway.odata.catalog > docs/errors.md``); a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One error: ``code`` on the wire, ``status``, a ``template`` for the message (``{name}``
    placeholders, filled by keyword) and ``when`` it is sent, for docs/errors.md."""

    code: str
    status: int
    template: str
    when: str

    def message(self, **args: object) -> str:
        return self.template.format(**args)


_FREE = "{message}"  # the raise site says what, in its own words


def _e(code: str, status: int, template: str, when: str) -> tuple[str, Entry]:
    return code, Entry(code, status, template, when)


# Catalogue name -> entry. The name is the code, except where one code has two statuses.
CATALOG: dict[str, Entry] = dict([
    # The request itself.
    _e("BadRequest", 400, _FREE, "The request is malformed: URL, query option, key predicate, "
       "body, batch or value; `target` names the option or property when there is one."),
    _e("NotFound", 404, _FREE, "No resource at the URL: an unknown entity set, property, "
       "action, trigger or subscription, or a record or app Kintone does not have."),
    _e("MethodNotAllowed", 405, _FREE, "The resource does not take the HTTP method; the `Allow` "
       "header lists those it takes."),
    _e("NotAcceptable", 406, _FREE, "Neither `Accept` nor `$format` allows a format the "
       "resource has."),
    _e("RequestEntityTooLarge", 413, _FREE, "A body without `Content-Length` grew past "
       "`[Security] MaxRequestBytes` while it was read."),
    _e("URITooLong", 414, _FREE, "The request line is longer than the server reads (answered by "
       "the gunicorn worker)."),
    _e("RequestHeaderFieldsTooLarge", 431, _FREE, "Too many or too long headers (answered by "
       "the gunicorn worker)."),
    _e("InternalError", 500, _FREE, "A bug: the gateway failed unexpectedly and logged it (in a "
       "`$bulk` row: the row may or may not have been written)."),
    _e("NotImplemented", 501, _FREE, "Valid OData the gateway does not support (a function, an "
       "option, an `$expand` or `$orderby` Kintone cannot answer)."),
    _e("NotConfigured", 501, "Webhook triggers are off on this gateway: its administrator must "
       "set [Triggers] WebhookSecret.", "A webhook trigger is subscribed to while "
       "`[Triggers] WebhookSecret` is not set."),
    # Who may call (the security layer).
    _e("Unauthorized", 401, _FREE, "No authtoken, or an invalid or expired one (with "
       "`WWW-Authenticate`)."),
    _e("AccessDenied", 403, _FREE, "The user's rights do not cover the method on this entity "
       "set (or, for the triggers' dead letters, are not `*:*`)."),
    ("MethodForbidden", Entry("MethodNotAllowed", 403, "User {user} may not use {method}.",
                              "The user's rights allow the HTTP method on no entity set.")),
    _e("OriginNotAllowed", 403, _FREE, "A browser page from an origin outside `[CORS] "
       "AllowedOrigins` sends a preflight or a write."),
    _e("AddressNotAllowed", 403, "Calls from {client} are not allowed ([Security] AllowedIPs).",
       "The caller's address is outside `[Security] AllowedIPs` (probes included)."),
    _e("PayloadTooLarge", 413, "The request body exceeds {limit} bytes.",
       "`Content-Length` is over `[Security] MaxRequestBytes`."),
    _e("TooManyRequests", 429, "{message} Retry in {seconds} s.", "A rate limit: requests per "
       "hour per user or address, or concurrent requests per user (with `Retry-After`)."),
    # Reads and their cost.
    _e("RequestTooCostly", 400, "This request needs more than {limit} Kintone calls ([gateway] "
       "MaxCallsPerRequest). Narrow $filter, ask for fewer records ($top), order by Id, or send "
       "smaller requests.", "Answering would take more Kintone calls than "
       "`[gateway] MaxCallsPerRequest`."),
    _e("TooManyCursors", 429, "{message} Try again shortly, or read in Id order (no cursor "
       "needed).", "Every Kintone cursor the gateway may hold is in use (with `Retry-After`)."),
    _e("DocumentTooLarge", 400, "The API definition would be {size} bytes, over the {limit} "
       "bytes Power Automate accepts ([Application] MaxApiDocumentBytes). Ask for some apps with "
       "?sets=A,B (an app's subtables come with it), or use the dynamic connector document "
       "(?dynamic=true), whose size does not grow with the number of apps.",
       "The Swagger 2.0 document is over `[Application] MaxApiDocumentBytes`."),
    # Kintone's answers (details: Kintone's own code, target "kintone").
    _e("KintoneRejectedQuery", 400, "Kintone refused the query: {message}", "Kintone answered "
       "a read with 400 (a query it cannot run)."),
    _e("KintoneError", 502, "Kintone failed: {message}", "Kintone answered with an error no "
       "other code covers."),
    _e("KintoneAccessDenied", 502, "Kintone refused the gateway's credentials; check the "
       "[kintone] settings.", "Kintone refused the gateway's own credentials (401 or 403): the "
       "administrator must fix the settings."),
    _e("KintoneTokenMissing", 502, _FREE, "The call needs the API token of an app (or a "
       "lookup's source app) the settings have none for."),
    _e("KintoneUnavailable", 503, "Kintone is unavailable or busy; try again later.", "Kintone "
       "is down, unreachable or throttling, after retries (`Retry-After` when Kintone gave "
       "one)."),
    _e("ModelUnavailable", 503, "The Kintone apps could not be read; try again later.", "The "
       "apps' forms could not be loaded for a reason other than a Kintone error."),
    # Writes.
    _e("ValidationFailed", 400, "Kintone refused the values: {message}", "Kintone refused "
       "values of a write; one `InvalidValue` detail per value, `target` its property path."),
    _e("KintoneRejectedWrite", 400, "Kintone refused the write: {message}", "Kintone refused a "
       "write for another reason (a read-only field, a lookup value not found, a status action "
       "not allowed now ...)."),
    _e("Forbidden", 403, "Kintone: {message}", "Only the record's current assignee may run that "
       "status action (Kintone's GAIA_NT01)."),
    _e("IdempotencyKeyInUse", 409, "A request with this {header} is still running; try again "
       "shortly.", "A request with the same `Idempotency-Key` is still running."),
    _e("PreconditionFailed", 412, _FREE, "`If-Match` names another revision than the record's, "
       "or is not a record's ETag."),
    _e("IdempotencyKeyReused", 422, "The {header} was already used for a different request.",
       "The `Idempotency-Key` was used before for a different request."),
    _e("FailedDependency", 424, _FREE, "In a `$batch`: not run because a request it depends on "
       "failed, or not applied because another request of its atomicity group failed."),
    _e("WriteOutcomeUnknown", 502, "Kintone did not answer the write, which may or may not "
       "have been applied: check before sending it again.", "Kintone's answer to a write that "
       "cannot be repeated safely never came."),
    _e("BatchReplyTooLarge", 507, "The batch's reply reached [writes] MaxBatchReplyBytes, or "
       "this response MaxBatchResponseBytes: send this request on its own or in a smaller "
       "batch.", "In a `$batch`: a read whose body would take the reply past `[writes] "
       "MaxBatchReplyBytes`, or is itself over `MaxBatchResponseBytes`."),
    # Operations.
    _e("NotReady", 503, "The gateway cannot serve yet.", "`/readyz`: Kintone (or Redis, when "
       "clustered) cannot be reached; the details say which."),
    _e("ClusterUnavailable", 503, "The gateway's shared state (Redis) cannot be reached; try "
       "again later.", "`[Cluster] Redis` failed during a request (with `Retry-After`)."),
])

# Codes of the entries in an error's ``details`` -> when they are sent. Kintone's own codes
# (GAIA_RE01 ..., or HTTP<status> when it gave none) come with the target "kintone".
DETAILS: dict[str, str] = {
    "InvalidValue": "In `ValidationFailed`: one value Kintone refused; `target` is its property "
                    "path (`Price`, `Items[2]/Qty`).",
    "KintoneUnreachable": "In `NotReady`: Kintone does not answer with the configured "
                          "credentials.",
    "RedisUnreachable": "In `NotReady`: `[Cluster] Redis` does not answer.",
}


def markdown() -> str:
    """docs/errors.md."""
    lines = [
        "# Errors",
        "",
        "<!-- Generated from gateway/odata/catalog.py by "
        "`python3 -m gateway.odata.catalog > docs/errors.md`; tests/test_errors_doc.py checks "
        "it. -->",
        "",
        'Every error is OData JSON, `{"error": {"code", "message", "target"?, "details"?}}`, '
        "with the HTTP status below. Clients may rely on the codes and statuses; the messages "
        "are for people. When Kintone caused the error, a detail with the `target` `kintone` "
        "carries Kintone's own code (`GAIA_RE01` ..., or `HTTP<status>` when it gave none) and "
        "message.",
        "",
        "| Code | Status | Sent when |",
        "|---|---|---|",
        *(f"| `{e.code}` | {e.status} | {e.when} |"
          for e in sorted(CATALOG.values(), key=lambda e: (e.status, e.code))),
        "",
        "## Codes in `details`",
        "",
        "| Code | Sent when |",
        "|---|---|",
        *(f"| `{code}` | {when} |" for code, when in sorted(DETAILS.items())),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
