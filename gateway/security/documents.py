"""Who may fetch the API documents (``$oas``): Power Automate's designer fetches the Swagger
URL from the maker's browser, anonymously, so it cannot send an authtoken.

Two ways, both off unless asked for:

* a **document-only capability URL**: ``kintone-gateway oas-url --user alice --days 30`` prints
  ``.../$oas?access=CAPABILITY``, where the capability is ``user.expiry.signature``, the
  signature an HMAC-SHA256 under the token key of the user's name, the expiry and the user's
  token hash. It fetches that user's documents and nothing else: a leaked URL reads no data, it
  stops working when it expires or when the user's token is replaced or removed;
* ``[Application] PublicApiDocument = true``: the documents need no authtoken at all (they name
  the apps and fields, hence off by default).

The documents' CORS preflight answers any origin: the designer's page is on Microsoft's.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass, field

from flask import Request, Response

from ..settings import Settings
from .errors import unauthorized
from .tokens import KeyMissing, TokenKey, load_key
from .users import User, UserStore

PARAMETER = "access"
_PURPOSE = "kintone-gateway document access v1"
_INVALID = "The document access URL is not valid (or no longer: its user's token changed)."


def sign(key: TokenKey, user: User, expires: int) -> str:
    """The capability of ``user`` until ``expires`` (seconds since the epoch)."""
    return f"{user.name}.{expires}.{_signature(key, user, expires)}"


def capability(settings: Settings, name: str, expires: int) -> str:
    """The capability of the configured user ``name``; ``ValueError`` when there is no such
    user or no token key yet."""
    user = UserStore(settings).get(name)
    if user is None:
        raise ValueError(f"no user {name!r} ([Users] or the users file)")
    try:
        key = load_key(settings.section("Security"))
    except KeyMissing as exc:
        raise ValueError(str(exc)) from None
    return sign(key, user, expires)


def _signature(key: TokenKey, user: User, expires: int) -> str:
    message = f"{_PURPOSE}\n{user.name}\n{expires}\n{user.token_hash}".encode()
    digest = hmac.new(key.secret, message, "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class DocumentAccess:
    public: bool = False  # [Application] PublicApiDocument
    endpoints: set[str] = field(default_factory=set)  # the Flask endpoints serving documents

    def serves(self, request: Request) -> bool:
        return request.endpoint in self.endpoints

    def user(self, request: Request, key: TokenKey | None, users: UserStore,
             now: float) -> User | None:
        """The user a capability in ``request`` stands for; ``None`` without one. Raises a 401
        for a capability that is forged, expired or outdated."""
        text = request.args.get(PARAMETER)
        if text is None:
            return None
        name, _, rest = text.partition(".")
        expiry, _, signature = rest.partition(".")
        user = users.get(name) if name else None
        if key is None or user is None or not expiry.isdigit():
            raise unauthorized(_INVALID)
        expected = _signature(key, user, int(expiry))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise unauthorized(_INVALID)
        if now >= int(expiry) or user.expired(now):
            raise unauthorized("The document access URL has expired: ask for a new one "
                               "(kintone-gateway oas-url).")
        return user


def public_preflight(request: Request) -> Response:
    """Any origin may read the documents (GET only, no credentials)."""
    return Response(status=204, headers={
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, OPTIONS",
        "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers",
                                                            ""),
        "Access-Control-Max-Age": "3600",
    })
