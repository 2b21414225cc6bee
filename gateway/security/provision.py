"""New users and their authtokens; the token is returned once and only its hash is kept."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import TypedDict, Unpack

from ..settings import Section, Settings
from .rights import FULL, Rights
from .tokens import KEY_BYTES, KeyMissing, TokenKey, generate_token, load_key
from .users import SECTION, User, check_name


def issue(key: TokenKey, name: str, rights: Rights, *, per_hour: int | None = None,
          concurrent: int | None = None, expires: datetime | None = None,
          token: str | None = None) -> tuple[User, str]:
    """A user and its authtoken: ``token`` when given (the demo's ``--token``, checked by its
    caller to be as strong as a generated one), else a new one."""
    token = token or generate_token()
    return User(check_name(name), key.hash(token), rights, per_hour, concurrent, expires), token


class Limits(TypedDict, total=False):
    """What ``issue`` takes besides the key, name and rights."""

    per_hour: int | None
    concurrent: int | None
    expires: datetime | None
    token: str | None


def add_user(settings: Settings, name: str, rights: Rights = FULL, **limits: Unpack[Limits]
             ) -> tuple[Settings, str]:
    """``settings`` with one more user in ``[Users]``, and the user's token: for the demo and
    tests, which need a caller without writing files. Without a configured key or key file,
    an in-memory ``TokenKey`` is added."""
    security = settings.section("Security")
    try:
        key = load_key(security)
    except KeyMissing:
        security = _with(security, "TokenKey", secrets.token_hex(KEY_BYTES))
        key = load_key(security)
    user, token = issue(key, name, rights, **limits)
    users = _with(settings.section(SECTION), user.name, user.line())
    sections = {**settings.sections, security.name: security, users.name: users}
    return replace(settings, sections=MappingProxyType(sections)), token


def _with(section: Section, key: str, value: str) -> Section:
    return replace(section, values=MappingProxyType({**section.values, key.lower(): value}))
