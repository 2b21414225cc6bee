"""Authentication and authorisation exactly as real Kintone orders them.

Priority: password (``X-Cybozu-Authorization``) > OAuth bearer > API tokens. The optional
domain-level Basic layer is checked first, when the sandbox enables it, and never identifies a user.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json

from .context import PERMISSIONS, Caller, Ctx, TokenGrant
from .errors import KintoneError
from .state import Sandbox

MAX_TOKENS = 9


class BasicAuthRequired(Exception):
    """The domain's Basic-authentication layer refused the request (answered before Kintone)."""


def authenticate(sandbox: Sandbox, headers) -> Caller:
    _check_basic_layer(sandbox, headers.get("Authorization", ""))
    password_header = headers.get("X-Cybozu-Authorization")
    if password_header:
        return Caller(user=_password_user(sandbox, password_header))
    bearer = headers.get("Authorization", "")
    if bearer.startswith("Bearer "):
        return _oauth_caller(sandbox, bearer[len("Bearer "):].strip())
    tokens = [t.strip() for value in headers.getlist("X-Cybozu-API-Token")
              for t in value.split(",") if t.strip()]
    if tokens:
        return Caller(tokens=_token_grants(sandbox, tokens))
    raise KintoneError("CB_AU01")


def _check_basic_layer(sandbox: Sandbox, authorization: str) -> None:
    expected = sandbox.config.basic_auth
    if expected is None:
        return
    if not authorization.startswith("Basic "):
        raise BasicAuthRequired
    user, password = _decode_pair(authorization[len("Basic "):]) or ("", "")
    ok_user = hmac.compare_digest(user.encode(), expected[0].encode())
    ok_password = hmac.compare_digest(password.encode(), expected[1].encode())
    if not (ok_user and ok_password):
        raise BasicAuthRequired


def _decode_pair(value: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in decoded:
        return None
    login, _, password = decoded.partition(":")
    return login, password


def _password_user(sandbox: Sandbox, header: str) -> dict:
    pair = _decode_pair(header)
    user = sandbox.directory.authenticate(*pair) if pair else None
    if user is None:
        raise KintoneError("CB_WA01")
    return user


def _oauth_caller(sandbox: Sandbox, token: str) -> Caller:
    grants: dict = sandbox.registry("oauth", lambda _s: {})
    for known, (login, scopes) in grants.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            user = sandbox.directory.user(login)
            if user is not None:
                return Caller(user=user, scopes=frozenset(scopes))
    raise KintoneError("CB_WA01", status=401, message="The access token is invalid.")


def _token_grants(sandbox: Sandbox, tokens: list[str]) -> dict[int, TokenGrant]:
    if len(tokens) > MAX_TOKENS:
        raise KintoneError("GAIA_IA02")
    grants: dict[int, TokenGrant] = {}
    for token in tokens:
        row = sandbox.db.conn.execute(
            "SELECT app, data FROM api_tokens WHERE token = ?", (token,)
        ).fetchone()
        if row is None:
            raise KintoneError("GAIA_IA02")
        if row["app"] in grants:
            raise KintoneError("GAIA_DA03")
        rights = frozenset(json.loads(row["data"]).get("rights", []))
        grants[row["app"]] = TokenGrant(token, row["app"], rights)
    return grants


# OAuth scope needed for each right.
_SCOPES = {
    "view": "k:app_record:read",
    "add": "k:app_record:write",
    "edit": "k:app_record:write",
    "delete": "k:app_record:write",
    "manage": "k:app_settings:write",
}


def require_right(ctx: Ctx, app_id: int, right: str) -> None:
    """Raise Kintone's 403 when the caller may not use ``right`` on app ``app_id``."""
    if not has_right(ctx, app_id, right):
        raise KintoneError("GAIA_NO01" if ctx.caller.user is None else "CB_NO02")


def has_right(ctx: Ctx, app_id: int, right: str) -> bool:
    """Whether the caller may use ``right`` on app ``app_id``: a token caller needs a token of
    that app in the request (e.g. a lookup's source app for writes that look up)."""
    caller = ctx.caller
    if caller.user is None:
        grant = caller.tokens.get(app_id)
        return grant is not None and right in grant.rights
    if caller.scopes is not None and _SCOPES[right] not in caller.scopes:
        return False
    return right in caller.user.get("appRights", {}).get(str(app_id), PERMISSIONS)


def require_user(ctx: Ctx) -> None:
    """APIs documented as not usable with API tokens (apps.json, space.json)."""
    if ctx.caller.user is None:
        raise KintoneError("GAIA_NO01")
