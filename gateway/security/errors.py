"""The refusals of this package: OData errors that carry their own headers.

``register`` installs a handler for ``Refusal``, so a refusal raised anywhere (a hook, or a view
calling ``require``) becomes OData JSON with its ``WWW-Authenticate`` or ``Retry-After``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import Response, jsonify

from ..odata.errors import ODataError

CHALLENGE = 'Basic realm="kintone-gateway", charset="UTF-8"'


@dataclass
class Refusal(ODataError):
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        response = jsonify(self.body())
        response.status_code = self.status
        response.headers.update(self.headers)
        return response


def unauthorized(message: str) -> Refusal:
    # The challenge makes Power Query and Excel ask for Basic credentials (user:authtoken).
    return Refusal(401, "Unauthorized", message, headers={"WWW-Authenticate": CHALLENGE})


def forbidden(code: str, message: str, target: str | None = None) -> Refusal:
    return Refusal(403, code, message, target)


def too_many_requests(message: str, retry_after: float) -> Refusal:
    seconds = max(1, math.ceil(retry_after))
    return Refusal(429, "TooManyRequests", f"{message} Retry in {seconds} s.",
                   headers={"Retry-After": str(seconds)})


def too_large(limit: int) -> Refusal:
    return Refusal(413, "PayloadTooLarge", f"The request body exceeds {limit} bytes.")
