"""The refusals of this package: catalogue errors (``gateway.odata.catalog``) that carry their
own headers.

``Refusal`` is its own class so that ``register`` can answer it on any app, through the same
``ODataError.reply`` as every other error (a hook, or a view calling ``require``, may raise it),
and so that a caller can tell a refusal from other failures.
"""

from __future__ import annotations

from ..odata.errors import ODataError, retry_after

CHALLENGE = 'Basic realm="kintone-gateway", charset="UTF-8"'


class Refusal(ODataError):
    """An error of the security layer."""


def unauthorized(message: str) -> Refusal:
    # The challenge makes Power Query and Excel ask for Basic credentials (user:authtoken).
    return Refusal.of("Unauthorized", message=message, headers={"WWW-Authenticate": CHALLENGE})


def too_many_requests(message: str, wait: float) -> Refusal:
    header = retry_after(wait)
    return Refusal.of("TooManyRequests", message=message, seconds=header["Retry-After"],
                      headers=header)


def too_large(limit: int) -> Refusal:
    return Refusal.of("PayloadTooLarge", limit=limit)
