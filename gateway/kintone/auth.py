"""Authentication headers for one Kintone call, from the connection's settings.

Password, API-token and OAuth authentication each use their own header; the domain's optional
Basic layer adds ``Authorization: Basic`` to any of them. API tokens are per app: a call sends
only the tokens of the apps it touches (Kintone accepts at most 9 in one request): its own app,
and the source apps of the lookups it writes a value to.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping

from ..settings import AuthScheme, KintoneSettings
from .errors import KintoneError, KintoneTokenMissing

MAX_TOKENS_PER_REQUEST = 9


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class Authenticator:
    """Headers for a call touching ``apps``; the only code that reads the secrets."""

    def __init__(self, settings: KintoneSettings) -> None:
        self._settings = settings

    def headers(self, apps: Collection[int]) -> dict[str, str]:
        s = self._settings
        headers: dict[str, str] = {}
        if s.basic_auth_user and s.basic_auth_password:
            basic = _basic(s.basic_auth_user, s.basic_auth_password.reveal())
            headers["Authorization"] = f"Basic {basic}"
        if s.auth_scheme is AuthScheme.PASSWORD and s.user and s.password:
            headers["X-Cybozu-Authorization"] = _basic(s.user, s.password.reveal())
        elif s.auth_scheme is AuthScheme.OAUTH and s.oauth_access_token:
            headers["Authorization"] = f"Bearer {s.oauth_access_token.reveal()}"
        elif s.auth_scheme is AuthScheme.API_TOKEN:
            headers["X-Cybozu-API-Token"] = ",".join(self._tokens(apps))
        return headers

    def _tokens(self, apps: Collection[int]) -> list[str]:
        tokens = self._settings.api_tokens
        if not apps:  # e.g. apps.json: not app-specific, Kintone decides what the tokens allow
            return [t.reveal() for t in list(tokens.values())[:MAX_TOKENS_PER_REQUEST]]
        missing = sorted(app for app in apps if app not in tokens)
        if missing:
            raise KintoneTokenMissing(403, None, _missing_message(missing, apps))
        if len(apps) > MAX_TOKENS_PER_REQUEST:
            raise KintoneError(400, None, f"One Kintone request can use at most "
                               f"{MAX_TOKENS_PER_REQUEST} API tokens ({len(apps)} apps).")
        return [tokens[app].reveal() for app in sorted(apps)]


def _missing_message(missing: list[int], apps: Collection[int]) -> str:
    """Which tokens are missing and, for apps a call touches only through a field (a lookup's
    source app), why the call needs them."""
    why = apps if isinstance(apps, Mapping) else {}
    parts = [f"{app} ({why[app]})" if why.get(app) else str(app) for app in missing]
    message = f"No API token is configured for app {', '.join(parts)}."
    if any(why.get(app) for app in missing):
        message += (" Kintone writes a lookup's value only with a token of its source app "
                    "(with the view right) in the same request: add one to APITokens.")
    return message
