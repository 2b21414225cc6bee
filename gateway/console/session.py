"""Console sessions: an admin's authtoken is exchanged once for a signed cookie.

The cookie is HttpOnly, SameSite=Strict, Secure when the request came over TLS, and scoped to
the console's path. It carries the user name, a CSRF token and the time of the last request;
every response re-signs it, so a session ends after ``IdleTimeout`` seconds without a request.
It is signed with a key derived from the token key, so every instance accepts it; it is also
bound to the user's token hash, so rotating or revoking the token ends the user's sessions.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from ..security.authn import Authenticator
from ..security.users import User

COOKIE = "console_session"
_SALT = "kintone-gateway console session"


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    seen: float  # when the session's last request came


class Sessions:
    def __init__(self, authenticator: Authenticator, idle_timeout: float,
                 clock: Callable[[], float] = time.time) -> None:
        self._authenticator = authenticator
        self._idle = idle_timeout
        self._clock = clock

    def start(self, user: User) -> Session:
        return Session(user, secrets.token_urlsafe(24), self._clock())

    def open(self, cookie: str | None) -> Session | None:
        """The session of a cookie, if it is genuine, recent, and its user and token unchanged."""
        serializer = self._serializer()
        if not cookie or serializer is None:
            return None
        try:
            data = serializer.loads(cookie)
            name, binding, csrf, seen = data["u"], data["b"], data["c"], float(data["t"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        now = self._clock()
        user = self._authenticator.users.get(name)
        if (user is None or user.expired(now) or not 0 <= now - seen <= self._idle
                or not hmac.compare_digest(binding, self._binding(user))):
            return None
        return Session(user, csrf, now)

    def cookie(self, session: Session) -> str:
        serializer = self._serializer()
        assert serializer is not None  # a user logged in, so there is a token key
        return serializer.dumps({"u": session.user.name, "b": self._binding(session.user),
                                 "c": session.csrf, "t": session.seen})

    @property
    def idle_timeout(self) -> float:
        return self._idle

    def _serializer(self) -> URLSafeSerializer | None:
        key = self._authenticator.key
        if key is None:
            return None
        return URLSafeSerializer(key.hash("console session key"), salt=_SALT)

    def _binding(self, user: User) -> str:
        key = self._authenticator.key
        assert key is not None
        return key.hash(user.token_hash)[-32:]
