"""OData JSON errors: ``{"error": {"code", "message", "target", "details"}}`` and a status.

Every error comes from the catalogue (``gateway.odata.catalog``), by name:
``raise ODataError.of("TooManyCursors", message=..., headers=retry_after(5))``; the keywords
other than ``target``, ``details`` and ``headers`` fill the entry's message template.
``bad_request`` and its siblings are the shorthands for the codes whose message is the raise
site's own. ``reply()`` is what a Flask view or error handler returns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Self

from .catalog import CATALOG, DETAILS

# What a Flask view or error handler may return: body (Flask writes it as JSON), status, headers.
Answer = tuple[dict, int, dict[str, str]]


@dataclass
class ODataError(Exception):
    status: int
    code: str
    message: str
    target: str | None = None
    details: list[dict] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Allow on a 405

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @classmethod
    def of(cls, name: str, target: str | None = None, *, details: Iterable[dict] = (),
           headers: Mapping[str, str] | None = None, **args: object) -> Self:
        """The catalogue's error ``name``, its message filled from ``args``."""
        entry = CATALOG[name]
        return cls(entry.status, entry.code, entry.message(**args), target, list(details),
                   dict(headers or {}))

    def body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def reply(self) -> Answer:
        """The response, for a Flask view or error handler to return."""
        return self.body(), self.status, self.headers


def detail(code: str, message: str, target: str | None = None) -> dict[str, str]:
    """An entry of an error's ``details`` with one of the catalogue's detail codes."""
    if code not in DETAILS:
        raise KeyError(code)
    return {"code": code, "message": message} | ({"target": target} if target else {})


def retry_after(seconds: float) -> dict[str, str]:
    """The ``Retry-After`` header: whole seconds, rounded up, at least one."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def bad_request(message: str, target: str | None = None) -> ODataError:
    return ODataError.of("BadRequest", target, message=message)


def not_found(message: str, target: str | None = None) -> ODataError:
    return ODataError.of("NotFound", target, message=message)


def not_implemented(message: str, target: str | None = None) -> ODataError:
    return ODataError.of("NotImplemented", target, message=message)


def not_acceptable(message: str, target: str | None = None) -> ODataError:
    return ODataError.of("NotAcceptable", target, message=message)
