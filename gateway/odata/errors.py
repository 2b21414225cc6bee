"""OData JSON errors: ``{"error": {"code", "message", "target", "details"}}`` and a status."""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str, target: str | None = None) -> ODataError:
    return ODataError(400, "BadRequest", message, target)


def not_found(message: str, target: str | None = None) -> ODataError:
    return ODataError(404, "NotFound", message, target)


def not_implemented(message: str, target: str | None = None) -> ODataError:
    return ODataError(501, "NotImplemented", message, target)


def not_acceptable(message: str, target: str | None = None) -> ODataError:
    return ODataError(406, "NotAcceptable", message, target)
