"""Sandbox configuration files: the tenant's settings, people, spaces and OAuth tokens.

A JSON file (all keys optional)::

    {"language": "en", "timezone": "Asia/Tokyo",
     "basic_auth": {"user": "site", "password": "secret"},
     "users": [{"login": "alice", "password": "pw", "name": "Alice Ito",
                "organizations": ["sales"], "groups": ["admins"],
                "timezone": "Asia/Tokyo", "language": "ja", "admin": false}],
     "organizations": [{"code": "sales", "name": "Sales"}],
     "groups": [{"code": "admins", "name": "Administrators"}],
     "spaces": [{"name": "Partners", "isGuest": true, "isPrivate": false,
                 "members": ["alice"], "creator": "alice"}],
     "oauth": [{"token": "abc", "user": "alice", "scopes": ["k:app_record:read"]}]}

and a plain users file (``--users``), one user a line: ``login password [Display name]``;
blank lines and ``#`` comments are skipped.

``apply_config`` remembers what it applied, so the extension API's reset can bring the sandbox
back to exactly this configured state.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .spaces import create_space

if TYPE_CHECKING:
    from .state import Sandbox

LANGUAGES = ("en", "ja")
_SEED = "configuration"


class ConfigError(ValueError):
    """A configuration file the sandbox cannot use."""


@dataclass
class UserSpec:
    login: str
    password: str
    name: str | None = None
    organizations: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    timezone: str | None = None
    language: str | None = None
    admin: bool = True


@dataclass
class EntitySpec:
    """An organisation or a group."""

    code: str
    name: str | None = None


@dataclass
class SpaceSpec:
    name: str
    isGuest: bool = False  # Kintone spells them this way
    isPrivate: bool = False
    members: list[str] = field(default_factory=list)
    creator: str | None = None  # a login; None: Administrator


@dataclass
class OAuthSpec:
    user: str
    scopes: list[str]
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))


@dataclass
class SandboxFile:
    language: str | None = None
    timezone: str | None = None
    basic_auth: tuple[str, str] | None = None
    users: list[UserSpec] = field(default_factory=list)
    organizations: list[EntitySpec] = field(default_factory=list)
    groups: list[EntitySpec] = field(default_factory=list)
    spaces: list[SpaceSpec] = field(default_factory=list)
    oauth: list[OAuthSpec] = field(default_factory=list)


# --- reading ------------------------------------------------------------------------------------

def load_config(path: str | Path) -> SandboxFile:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    return parse_config(data)


def parse_config(data: Any) -> SandboxFile:
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a JSON object")
    _check_keys("configuration", data, SandboxFile)
    basic = data.get("basic_auth")
    if basic is not None and not (isinstance(basic, dict) and {"user", "password"} <= set(basic)):
        raise ConfigError("basic_auth must be {\"user\": ..., \"password\": ...}")
    cfg = SandboxFile(
        language=data.get("language"),
        timezone=data.get("timezone"),
        basic_auth=(str(basic["user"]), str(basic["password"])) if basic else None,
        users=_specs(data, "users", UserSpec),
        organizations=_specs(data, "organizations", EntitySpec),
        groups=_specs(data, "groups", EntitySpec),
        spaces=_specs(data, "spaces", SpaceSpec),
        oauth=_specs(data, "oauth", OAuthSpec),
    )
    _validate(cfg)
    return cfg


def load_users_file(path: str | Path) -> list[UserSpec]:
    return parse_users_text(Path(path).read_text(encoding="utf-8"))


def parse_users_text(text: str) -> list[UserSpec]:
    users = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        if len(parts) < 2:
            raise ConfigError(f"users file line {number}: expected 'login password [name]'")
        users.append(UserSpec(parts[0], parts[1], parts[2] if len(parts) == 3 else None))
    return users


def _specs(data: dict, key: str, cls: type) -> list:
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{key} must be a list of objects")
    out = []
    for i, item in enumerate(items):
        _check_keys(f"{key}[{i}]", item, cls)
        try:
            out.append(cls(**item))
        except TypeError as exc:
            raise ConfigError(f"{key}[{i}]: {exc}") from None
    return out


def _check_keys(where: str, item: dict, cls: type) -> None:
    unknown = set(item) - {f.name for f in fields(cls)}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")


def _validate(cfg: SandboxFile) -> None:
    _check_locale(cfg.language, cfg.timezone)
    for user in cfg.users:
        check_user(user)
    logins = {u.login for u in cfg.users}
    for grant in cfg.oauth:
        if grant.user not in logins:
            raise ConfigError(f"oauth token for unknown user {grant.user!r}")


def check_user(user: UserSpec) -> None:
    if not isinstance(user.login, str) or not user.login or not isinstance(user.password, str):
        raise ConfigError("a user needs a login and a password (strings)")
    _check_locale(user.language, user.timezone)


def _check_locale(language: str | None, timezone: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise ConfigError(f"language must be one of {LANGUAGES}, not {language!r}")
    if timezone is not None:
        check_timezone(timezone)


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}") from None


# --- applying -----------------------------------------------------------------------------------

def apply_config(sandbox: Sandbox, cfg: SandboxFile) -> None:
    """Apply a configuration on top of the sandbox's current state, and remember it."""
    settings = sandbox.config
    settings.language = cfg.language or settings.language
    settings.timezone = cfg.timezone or settings.timezone
    settings.basic_auth = cfg.basic_auth or settings.basic_auth
    directory = sandbox.directory
    for org in cfg.organizations:
        directory.add_organization(org.code, org.name)
    for group in cfg.groups:
        directory.add_group(group.code, group.name)
    for user in cfg.users:
        directory.add_user(user.login, user.password, user.name,
                           organizations=user.organizations, groups=user.groups,
                           timezone=user.timezone, language=user.language, admin=user.admin)
    for space in cfg.spaces:
        _ensure_space(sandbox, space)
    grants = oauth_grants(sandbox)
    for grant in cfg.oauth:
        grants[grant.token] = (grant.user, list(grant.scopes))
    remembered = configured(sandbox)
    sandbox.extensions[_SEED] = merge(remembered, cfg) if remembered else cfg


def configured(sandbox: Sandbox) -> SandboxFile | None:
    """The configuration applied so far (None for a sandbox built only in code)."""
    return sandbox.extensions.get(_SEED)  # type: ignore[return-value]


def merge(base: SandboxFile, extra: SandboxFile) -> SandboxFile:
    """``extra`` applied after ``base``: scalar settings override, lists add up."""
    return SandboxFile(
        language=extra.language or base.language,
        timezone=extra.timezone or base.timezone,
        basic_auth=extra.basic_auth or base.basic_auth,
        users=[*base.users, *extra.users],
        organizations=[*base.organizations, *extra.organizations],
        groups=[*base.groups, *extra.groups],
        spaces=[*base.spaces, *extra.spaces],
        oauth=[*base.oauth, *extra.oauth],
    )


def oauth_grants(sandbox: Sandbox) -> dict[str, tuple[str, list[str]]]:
    """``{access token: (login, scopes)}``, as auth.py reads it."""
    return sandbox.registry("oauth", lambda _sandbox: {})


def _ensure_space(sandbox: Sandbox, spec: SpaceSpec) -> None:
    """Configured spaces are matched by name, so a persistent database does not collect copies."""
    with sandbox.db.transaction() as conn:
        found = conn.execute("SELECT 1 FROM spaces WHERE json_extract(data, '$.name') = ?",
                             (spec.name,)).fetchone()
        if found is None:
            create_space_from(sandbox, spec)


def create_space_from(sandbox: Sandbox, spec: SpaceSpec) -> int:
    with sandbox.db.transaction() as conn:
        return create_space(conn, name=spec.name, is_guest=spec.isGuest, creator=spec.creator,
                            now=sandbox.clock.now(), members=spec.members,
                            is_private=spec.isPrivate)
