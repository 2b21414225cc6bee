"""Who may call: users from ``[Users]`` in settings.cfg and from the users file it names.

One line per user, in either place::

    alice = hmac-sha256:<hex>; rights=GET:* POST,PUT:Orders; per_hour=500; concurrent=5;
            expires=2026-12-31T00:00:00+00:00

Only the token's keyed hash is stored. ``rights`` defaults to read-only (``GET:*``);
``per_hour`` and ``concurrent`` default to the server-wide limits (0 = unlimited); without
``expires`` the token does not expire. User names are case-insensitive.
"""

from __future__ import annotations

import configparser
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from ..settings import Section, Settings, SettingsError
from .rights import READ_ONLY, Rights, RightsError
from .tokens import HASH_PREFIX

log = logging.getLogger("gateway.security")

SECTION = "Users"
DEFAULT_USERS_FILE = "users.cfg"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")  # no ':', which ends a Basic user name
_HASH = re.compile(re.escape(HASH_PREFIX) + r"[0-9a-f]{64}")
_LIMIT_MAX = 10_000_000


@dataclass(frozen=True)
class User:
    name: str
    token_hash: str
    rights: Rights = READ_ONLY
    per_hour: int | None = None  # None = the server's default; 0 = unlimited
    concurrent: int | None = None
    expires: datetime | None = None

    def expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires.timestamp()

    def line(self) -> str:
        """The user's value in a ``[Users]`` section (the name is the key)."""
        parts = [self.token_hash, f"rights={self.rights}"]
        parts += [f"{key}={value}" for key, value in (("per_hour", self.per_hour),
                                                      ("concurrent", self.concurrent))
                  if value is not None]
        if self.expires is not None:
            parts.append(f"expires={self.expires.isoformat()}")
        return "; ".join(parts)


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid user name (letters, digits, _ . @ -; "
                         "at most 64 characters)")
    return name.lower()


def parse_user(name: str, text: str) -> User:
    """One ``[Users]`` line; ``ValueError`` names the problem without repeating the hash."""
    head, *options = (part.strip() for part in text.split(";"))
    if not _HASH.fullmatch(head):
        raise ValueError(f"user {name}: the value must start with {HASH_PREFIX}<64 hex digits> "
                         "(created by 'kintone-gateway users add')")
    fields: dict = {}
    for option in filter(None, options):
        key, equals, value = (s.strip() for s in option.partition("="))
        if not equals or key not in _OPTIONS or key in fields:
            raise ValueError(f"user {name}: unexpected {option!r} "
                             f"(known: {', '.join(_OPTIONS)}, each once)")
        try:
            fields[key] = _OPTIONS[key](value)
        except (ValueError, RightsError) as exc:
            raise ValueError(f"user {name}: {key}: {exc}") from None
    return User(check_name(name), head, **fields)


def parse_limit(text: str) -> int:
    value = int(text)
    if not 0 <= value <= _LIMIT_MAX:
        raise ValueError(f"{value} is out of range (0 to {_LIMIT_MAX})")
    return value


def parse_expiry(text: str) -> datetime:
    """An ISO 8601 date or date-time; without a zone it is UTC (a date: its midnight, UTC)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_OPTIONS = {"rights": Rights.parse, "per_hour": parse_limit, "concurrent": parse_limit,
            "expires": parse_expiry}


def read_section(section: Section) -> dict[str, User]:
    users = {}
    for name in section.values:
        try:
            users[check_name(name)] = parse_user(name, section.require(name))
        except ValueError as exc:
            raise SettingsError(f"[{SECTION}] {exc}") from None
    return users


def read_users_file(path: Path, env: Mapping[str, str]) -> dict[str, User]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    values = section_values(parser, SECTION)
    try:
        return read_section(Section(SECTION.lower(), MappingProxyType(values), env))
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def section_values(parser: configparser.ConfigParser, name: str) -> dict[str, str]:
    """A section's values, its name matched as settings.py does: ignoring case."""
    for section in parser.sections():
        if section.lower() == name.lower():
            return dict(parser[section])
    return {}


def users_file(settings: Settings) -> Path:
    return Path(settings.section("Security").get("UsersFile", DEFAULT_USERS_FILE)
                or DEFAULT_USERS_FILE)


class UserStore:
    """The users of settings.cfg plus those of the users file, re-read when the file changes,
    so that ``kintone-gateway users add`` takes effect without a restart."""

    def __init__(self, settings: Settings, env: Mapping[str, str] | None = None) -> None:
        self._inline = read_section(settings.section(SECTION))
        self._path = users_file(settings)
        self._env = os.environ if env is None else env
        self._lock = threading.Lock()
        self._stamp = _stamp(self._path)
        self._users = self._load(self._stamp)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def inline(self) -> Mapping[str, User]:
        """The users of the settings' own ``[Users]`` (not of the users file)."""
        return MappingProxyType(self._inline)

    def get(self, name: str) -> User | None:
        return self.all().get(name.lower())

    def all(self) -> Mapping[str, User]:
        self._refresh()
        return self._users

    def _load(self, stamp: tuple[int, int, int] | None) -> Mapping[str, User]:
        return self._merge(read_users_file(self._path, self._env) if stamp else {})

    def _refresh(self) -> None:
        stamp = _stamp(self._path)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                self._users = self._load(stamp)
            except SettingsError:
                # Fail closed: only the users the new file defines correctly stay; a user it
                # no longer has (or whose line is broken) is refused from now on.
                log.error("%s is broken: only its valid users are kept", self._path)
                self._users = self._merge(self._valid_users())
            self._stamp = stamp

    def _valid_users(self) -> dict[str, User]:
        """The users of the file whose lines are right, each broken line logged."""
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(self._path, encoding="utf-8")
        except configparser.MissingSectionHeaderError:
            log.error("%s: no section header: none of its users is kept", self._path)
            return {}
        except configparser.ParsingError as exc:  # the lines that parsed are kept in parser
            lines = ", ".join(str(number) for number, _ in exc.errors)
            log.error("%s: unreadable line(s) %s ignored", self._path, lines)
        except (configparser.Error, UnicodeDecodeError) as exc:
            log.error("%s: unreadable (%s): none of its users is kept", self._path,
                      type(exc).__name__)
            return {}
        users = {}
        for name, text in section_values(parser, SECTION).items():
            try:
                users[check_name(name)] = parse_user(name, text)
            except ValueError as exc:
                log.error("%s: %s", self._path, exc)
        return {name: user for name, user in users.items() if name not in self._inline}

    def _merge(self, from_file: dict[str, User]) -> Mapping[str, User]:
        twice = sorted(self._inline.keys() & from_file.keys())
        if twice:
            raise SettingsError(f"{self._path}: user(s) {', '.join(twice)} also defined in "
                                f"[{SECTION}] of the settings")
        return MappingProxyType({**self._inline, **from_file})


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    # The inode too: a file replaced (atomically) within one clock tick by one of the same
    # size must still be seen as changed.
    return status.st_mtime_ns, status.st_size, status.st_ino
