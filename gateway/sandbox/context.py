"""What one Kintone API call knows: the sandbox, the authenticated caller, language and space."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .state import Sandbox

ADMINISTRATOR = {"code": "Administrator", "name": "Administrator"}
PERMISSIONS = ("view", "add", "edit", "delete", "manage")


@dataclass(frozen=True)
class TokenGrant:
    token: str
    app: int
    rights: frozenset[str]


@dataclass
class Caller:
    """The authenticated principal: a password/OAuth user, or a set of API tokens."""

    user: dict | None = None
    tokens: dict[int, TokenGrant] = field(default_factory=dict)
    scopes: frozenset[str] | None = None  # OAuth scopes; None = not OAuth

    @property
    def entity(self) -> dict:
        """``{code, name}`` as written into CREATOR/MODIFIER and comment authors."""
        if self.user is None:
            return dict(ADMINISTRATOR)
        return {"code": self.user["login"], "name": self.user.get("name", self.user["login"])}

    @property
    def login(self) -> str | None:
        return self.user["login"] if self.user else None

    @property
    def primary_organization(self) -> str | None:
        if not self.user:
            return None
        return self.user.get("primaryOrganization") or next(
            iter(self.user.get("organizations", [])), None
        )


@dataclass
class Ctx:
    sandbox: Sandbox
    caller: Caller
    lang: str = "en"
    guest_space: int | None = None
    base_url: str = "http://localhost"
    events: list[dict] = field(default_factory=list)  # webhook events, sent after commit
    upload: Any = None  # the multipart file of a file.json upload

    @property
    def db(self):
        return self.sandbox.db

    def now(self) -> datetime:
        return self.sandbox.clock.now()

    @property
    def tz(self) -> ZoneInfo:
        name = (self.caller.user or {}).get("timezone") or self.sandbox.config.timezone
        return ZoneInfo(name)
