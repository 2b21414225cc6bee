"""Who is calling: the authtoken of a request, and the user it belongs to.

Accepted, in this order: HTTP Basic ``user:authtoken`` (what Power BI, Excel and Power Automate
send), the ``X-Authtoken`` header, CData API Server's ``x-cdata-authtoken`` header, and - only
with ``[Application] AllowAuthtokenInURL = true`` - the ``/api.rsc/@TOKEN/...`` path segment and
the ``@authtoken`` query parameter. URLs end up in browser histories, proxy logs and referrers,
so a token there is refused (not ignored) when not allowed: the caller learns to stop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Request

from ..settings import Settings, SettingsError
from .documents import DocumentAccess
from .errors import unauthorized
from .flags import flag
from .tokens import HASH_PREFIX, KeyMissing, TokenKey, key_file, load_key, same_hash
from .users import User, UserStore

TOKEN_HEADERS = ("X-Authtoken", "x-cdata-authtoken")
URL_PARAMETER = "@authtoken"
PATH_PREFIX = "/api.rsc/@"
_MISSING = ("An authtoken is required: send it in the X-Authtoken header, or as the password of "
            "HTTP Basic authentication.")
_INVALID = "The authtoken is not valid."
_IN_URL = ("Authtokens in the URL are not allowed on this server ([Application] "
           "AllowAuthtokenInURL); send it in the X-Authtoken header or with HTTP Basic.")
# Compared against when no user matches, so that a wrong name takes as long as a wrong token.
_DECOY_HASH = HASH_PREFIX + "0" * 64


@dataclass(frozen=True)
class Credential:
    token: str = field(repr=False)
    user: str | None = None  # the Basic user name


def url_token(request: Request) -> str | None:
    if request.path.startswith(PATH_PREFIX):
        return request.path[len(PATH_PREFIX):].split("/", 1)[0]
    return request.args.get(URL_PARAMETER)


def presented(request: Request, allow_url: bool) -> Credential | None:
    in_url = url_token(request)
    if in_url is not None and not allow_url:
        raise unauthorized(_IN_URL)
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username and auth.password:
        return Credential(auth.password, auth.username)
    for header in TOKEN_HEADERS:
        if request.headers.get(header):
            return Credential(request.headers[header])
    return Credential(in_url) if in_url else None


class Authenticator:
    def __init__(self, settings: Settings, users: UserStore, clock: Callable[[], float]) -> None:
        self._allow_url = flag(settings.section("Application"), "AllowAuthtokenInURL")
        self._security = settings.section("Security")
        self._users = users
        self._clock = clock
        self._key = self._load_key()
        if self._key is None and users.all():
            raise SettingsError(f"[Security] the token key file {key_file(self._security)} does "
                                "not exist, so the users' authtokens cannot be checked (set "
                                "TokenKey or TokenKeyFile)")

    def refusal(self, name: str, method: str, resource: str) -> str | None:
        """Why user ``name`` may not use ``method`` on ``resource`` now (None: it may), for
        work done on the user's behalf outside a request (trigger deliveries)."""
        user = self._users.get(name)
        if user is None:
            return f"user {name} no longer exists"
        if user.expired(self._clock()):
            return f"the authtoken of user {name} has expired"
        if not user.rights.allows(method, resource):
            return f"user {name} may no longer use {method} on {resource}"
        return None

    def authenticate(self, request: Request) -> User:
        credential = presented(request, self._allow_url)
        if credential is None:
            raise unauthorized(_MISSING)
        return self.verify(credential)

    def verify(self, credential: Credential) -> User:
        """The user a token (with its Basic user name, if any) belongs to; 401 otherwise."""
        user = self._match(credential)
        if user is None:
            raise unauthorized(_INVALID)
        if user.expired(self._clock()):
            raise unauthorized(f"The authtoken of user {user.name} has expired.")
        return user

    def document_user(self, request: Request, access: DocumentAccess) -> User | None:
        """The user of a document-only capability URL (``None`` when there is none)."""
        key = self.key
        return None if key is None else access.user(request, key, self._users, self._clock())

    @property
    def users(self) -> UserStore:
        return self._users

    @property
    def key(self) -> TokenKey | None:
        """The key tokens are hashed with (``None`` until there is one)."""
        if self._key is None:
            self._key = self._load_key()
        return self._key

    def _load_key(self) -> TokenKey | None:
        try:
            return load_key(self._security)
        except KeyMissing:
            return None

    def _match(self, credential: Credential) -> User | None:
        key = self.key  # the first 'users add' may have created it since the start
        if key is None:
            return None
        digest = key.hash(credential.token)
        if credential.user is not None:
            user = self._users.get(credential.user)
            matched = same_hash(digest, user.token_hash if user else _DECOY_HASH)
            return user if matched else None
        # Every user is compared, with no early exit: the time taken says nothing about which.
        found = None
        for user in self._users.all().values():
            if same_hash(digest, user.token_hash):
                found = user
        return found

