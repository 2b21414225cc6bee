"""The gateway's settings: an INI file (``settings.cfg``) read into frozen dataclasses.

Every key may also come from the environment, so secrets need not sit in the file:

* ``<SECTION>_<KEY>`` (upper case, e.g. ``KINTONE_PASSWORD``, ``KINTONE_APITOKENS``,
  ``GATEWAY_PORT``) overrides the file's value;
* a file value ``env:NAME`` is read from the environment variable ``NAME``.

Keys are case-insensitive. Sections this module does not know (``[users]``, ``[security]``,
``[cors]``, ...) are kept in ``Settings.sections`` for the modules that own them; they can read
them with the same typed getters through ``Settings.section(name)``.
"""

from __future__ import annotations

import configparser
import enum
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar, overload
from urllib.parse import urlsplit

DEFAULT_PATH = "settings.cfg"
PATH_VARIABLE = "GATEWAY_SETTINGS"  # where to find the file when no path is given
ENV_PREFIX = "env:"
N = TypeVar("N", int, float)


class SettingsError(ValueError):
    """A missing or invalid setting; the message names the section and the key."""


@dataclass(frozen=True)
class Secret:
    """A password or token: its text never shows in ``str``, ``repr`` or a dataclass repr."""

    value: str = field(repr=False)

    def reveal(self) -> str:
        return self.value

    def __str__(self) -> str:
        return "********"

    def __repr__(self) -> str:
        return "Secret('********')"


class AuthScheme(enum.Enum):
    PASSWORD = "Password"
    API_TOKEN = "APIToken"
    OAUTH = "OAuth"


@dataclass(frozen=True)
class Section:
    """One INI section with typed, validated getters (environment overrides applied)."""

    name: str
    values: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    def raw(self, key: str) -> str | None:
        """The value of ``key`` (``None`` or blank = unset), after environment lookups."""
        override = self.env.get(f"{self.name}_{key}".upper())
        value = override if override is not None else self.values.get(key.lower())
        if value is not None and value.startswith(ENV_PREFIX):
            variable = value[len(ENV_PREFIX):].strip()
            value = self.env.get(variable)
            if value is None:
                raise self.error(key, f"environment variable {variable} is not set")
        value = value.strip() if value is not None else None
        return value or None

    def error(self, key: str, problem: str) -> SettingsError:
        return SettingsError(f"[{self.name}] {key}: {problem}")

    @overload
    def get(self, key: str, default: str) -> str: ...
    @overload
    def get(self, key: str, default: None = None) -> str | None: ...

    def get(self, key: str, default: str | None = None) -> str | None:
        value = self.raw(key)
        return default if value is None else value

    def require(self, key: str, why: str = "is required") -> str:
        value = self.raw(key)
        if value is None:
            raise self.error(key, why)
        return value

    def get_secret(self, key: str) -> Secret | None:
        value = self.raw(key)
        return None if value is None else Secret(value)

    def get_int(self, key: str, default: int, *, minimum: int, maximum: int) -> int:
        return self._number(key, default, int, minimum, maximum)

    def get_float(self, key: str, default: float, *, minimum: float, maximum: float) -> float:
        return self._number(key, default, float, minimum, maximum)

    def _number(self, key: str, default: N, kind: Callable[[str], N], minimum: N,
                maximum: N) -> N:
        value = self.raw(key)
        if value is None:
            return default
        try:
            number = kind(value)
        except ValueError:
            raise self.error(key, f"{value!r} is not a number") from None
        if not minimum <= number <= maximum:
            raise self.error(key, f"{value} is out of range ({minimum} to {maximum})")
        return number

    def get_list(self, key: str) -> tuple[str, ...]:
        value = self.raw(key) or ""
        return tuple(item.strip() for item in value.split(",") if item.strip())

    def get_file(self, key: str) -> str | None:
        value = self.raw(key)
        if value is not None and not Path(value).is_file():
            raise self.error(key, f"no such file: {value}")
        return value

    def get_url(self, key: str, default: str | None = None) -> str | None:
        value = self.get(key, default)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.username or parts.password or parts.query or parts.fragment:
            raise self.error(key, "must not contain credentials, a query or a fragment")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(key, f"{value!r} is not an http(s) URL")
        return value.rstrip("/")


@dataclass(frozen=True)
class KintoneSettings:
    """How to reach and authenticate to one Kintone domain (section ``[kintone]``)."""

    url: str
    auth_scheme: AuthScheme
    user: str | None = None
    password: Secret | None = None
    api_tokens: Mapping[int, Secret] = field(default_factory=dict)  # app id -> token
    oauth_access_token: Secret | None = None
    basic_auth_user: str | None = None
    basic_auth_password: Secret | None = None
    # Guest spaces where the apps of API tokens are looked for (tokens cannot list apps).
    guest_space_ids: tuple[int, ...] = ()
    ssl_client_cert: str | None = None  # PEM file (certificate, or certificate + key)
    ssl_client_cert_key: str | None = None  # PEM file with the unencrypted private key
    ssl_server_cert: str | None = None  # CA bundle; "*" = no verification (unsafe)
    timeout: float = 60.0  # read timeout, seconds
    connect_timeout: float = 10.0
    max_concurrent_requests: int = 10
    # Of those, how many one response may use at once: a read of several Kintone pages in $id
    # order reads disjoint $id ranges concurrently (1: one call at a time, with read-ahead).
    parallel_reads: int = 4
    # Range reads a full page starts for the next page of its export, held for it at most
    # (each holds up to one Kintone page of records until it is taken or dropped).
    parked_reads: int = 32
    max_retries: int = 4
    # The domain's 10 cursors are shared by every integration: the gateway's share, in all and
    # per gateway user, and the seconds a reader may leave one unread before it is deleted.
    max_cursors: int = 5
    max_cursors_per_user: int = 2
    cursor_idle_timeout: float = 60.0
    apps: tuple[int | str, ...] = ()  # ids or codes; empty = every app the credentials see

    @property
    def verify_server(self) -> bool:
        return self.ssl_server_cert != "*"


@dataclass(frozen=True)
class GatewaySettings:
    """The gateway's own HTTP service (section ``[gateway]``)."""

    # Records per OData page (server-driven paging): four Kintone calls, so that the read-ahead
    # overlaps three of them with the conversion and sending of the others (exports ran at 0.76
    # of direct Kintone reads with one call per page, 0.93 with four).
    page_size: int = 2000
    # Kintone calls a page may make before it stops with a next link (a filter Kintone cannot
    # evaluate alone, comments, subtable rows), and that one request may make at all.
    calls_per_page: int = 50
    max_calls_per_request: int = 250
    # Records per page when $expand asks for related entities: bounds its Kintone calls per page
    # (comments cost one call per record, see service/expand.py).
    expand_page_size: int = 100
    schema_cache_ttl: int = 300  # seconds an app's form is trusted before it is re-read
    public_url: str | None = None  # base URL clients see, when behind a reverse proxy
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class Settings:
    kintone: KintoneSettings
    gateway: GatewaySettings
    sections: Mapping[str, Section] = field(default_factory=dict, repr=False)

    def section(self, name: str) -> Section:
        """Any section, e.g. ``[cors]``; an absent section reads as empty (all defaults)."""
        return self.sections.get(name.lower()) or Section(name.lower())


def load_settings(path: str | Path | None = None,
                  env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings file and the environment.

    Without ``path``, the file named by ``$GATEWAY_SETTINGS`` or ``./settings.cfg`` is read when
    it exists (all settings may come from the environment); an explicit ``path`` must exist.
    """
    env = os.environ if env is None else env
    return parse_settings(read_settings_file(path, env), env)


def read_settings_file(path: str | Path | None, env: Mapping[str, str]
                       ) -> configparser.ConfigParser:
    """The INI file (``path``, else ``$GATEWAY_SETTINGS``, else ``./settings.cfg`` if present),
    parsed but not interpreted."""
    explicit = path if path is not None else env.get(PATH_VARIABLE)
    file = Path(explicit or DEFAULT_PATH)
    if explicit and not file.is_file():
        raise SettingsError(f"settings file not found: {file}")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(file, encoding="utf-8")
    except configparser.Error as exc:
        raise SettingsError(f"{file}: {exc}") from None
    return parser


def parse_settings(parser: configparser.ConfigParser, env: Mapping[str, str]) -> Settings:
    sections = {
        name.lower(): Section(name.lower(), MappingProxyType(dict(parser[name])), env)
        for name in parser.sections()
    }
    for name in ("kintone", "gateway"):
        sections.setdefault(name, Section(name, {}, env))
    return Settings(
        kintone=_kintone(sections["kintone"]),
        gateway=_gateway(sections["gateway"]),
        sections=MappingProxyType(sections),
    )


def _kintone(s: Section) -> KintoneSettings:
    scheme = _auth_scheme(s)
    basic_user, basic_password = s.get("BasicAuthUser"), s.get_secret("BasicAuthPassword")
    if (basic_user is None) != (basic_password is None):
        raise s.error("BasicAuthPassword", "BasicAuthUser and BasicAuthPassword go together")
    if scheme is AuthScheme.OAUTH and basic_user:
        raise s.error("BasicAuthUser", "cannot be combined with OAuth "
                      "(both use the Authorization header)")
    cert, key = s.get_file("SSLClientCert"), s.get_file("SSLClientCertKey")
    if key and not cert:
        raise s.error("SSLClientCertKey", "needs SSLClientCert")
    url = s.get_url("Url")
    if url is None:
        raise s.error("Url", "is required (e.g. https://example.cybozu.com)")
    server_cert = s.get("SSLServerCert")
    if server_cert != "*":
        server_cert = s.get_file("SSLServerCert")
    return KintoneSettings(
        url=url,
        auth_scheme=scheme,
        **_credentials(s, scheme),
        basic_auth_user=basic_user,
        basic_auth_password=basic_password,
        guest_space_ids=_ids(s, "GuestSpaceId"),
        ssl_client_cert=cert,
        ssl_client_cert_key=key,
        ssl_server_cert=server_cert,
        timeout=s.get_float("Timeout", 60.0, minimum=0.1, maximum=3600),
        connect_timeout=s.get_float("ConnectTimeout", 10.0, minimum=0.1, maximum=600),
        max_concurrent_requests=s.get_int("MaxConcurrentRequests", 10, minimum=1, maximum=100),
        parallel_reads=s.get_int("ParallelReads", 4, minimum=1, maximum=100),
        parked_reads=s.get_int("ParkedReads", 32, minimum=0, maximum=1000),
        max_retries=s.get_int("MaxRetries", 4, minimum=0, maximum=10),
        max_cursors=s.get_int("MaxCursors", 5, minimum=1, maximum=10),
        max_cursors_per_user=s.get_int("MaxCursorsPerUser", 2, minimum=1, maximum=10),
        cursor_idle_timeout=s.get_float("CursorIdleTimeout", 60, minimum=1, maximum=600),
        apps=tuple(int(a) if a.isdigit() else a for a in s.get_list("Apps")),
    )


def _auth_scheme(s: Section) -> AuthScheme:
    """The declared scheme, or the one implied by the credentials present."""
    declared = s.get("AuthScheme")
    if declared is None:
        for key, scheme in (("User", AuthScheme.PASSWORD), ("APITokens", AuthScheme.API_TOKEN),
                            ("OAuthAccessToken", AuthScheme.OAUTH)):
            if s.raw(key):
                return scheme
        raise s.error("AuthScheme", "is required (Password, APIToken or OAuth)")
    for scheme in AuthScheme:
        if declared.lower() == scheme.value.lower():
            return scheme
    raise s.error("AuthScheme", f"{declared!r} is not one of Password, APIToken, OAuth")


def _credentials(s: Section, scheme: AuthScheme) -> dict:
    if scheme is AuthScheme.PASSWORD:
        return {"user": s.require("User", "is required with AuthScheme=Password"),
                "password": Secret(s.require("Password", "is required with AuthScheme=Password"))}
    if scheme is AuthScheme.API_TOKEN:
        return {"api_tokens": _api_tokens(s)}
    token = s.require("OAuthAccessToken", "is required with AuthScheme=OAuth")
    return {"oauth_access_token": Secret(token)}


_TOKEN_ITEM = re.compile(r"(\d+)\s*:\s*(\S+)")


def _api_tokens(s: Section) -> Mapping[int, Secret]:
    """``12:token,13:token``: Kintone tokens are per app, and one request sends only its apps'."""
    items = s.get_list("APITokens")
    if not items:
        raise s.error("APITokens", "is required with AuthScheme=APIToken (app:token,...)")
    tokens: dict[int, Secret] = {}
    for position, item in enumerate(items, 1):
        match = _TOKEN_ITEM.fullmatch(item)
        if not match:  # never echo the item: it holds a token
            raise s.error("APITokens", f"item {position} is not of the form <app id>:<token>")
        app = int(match.group(1))
        if app in tokens:
            raise s.error("APITokens", f"app {app} has two tokens (Kintone refuses that)")
        tokens[app] = Secret(match.group(2))
    return MappingProxyType(tokens)


def _ids(s: Section, key: str) -> tuple[int, ...]:
    """``7, 12``: positive integers."""
    values = s.get_list(key)
    for value in values:
        if not value.isdigit() or int(value) < 1:
            raise s.error(key, f"{value!r} is not a positive integer")
    return tuple(dict.fromkeys(int(value) for value in values))


def _gateway(s: Section) -> GatewaySettings:
    return GatewaySettings(
        page_size=s.get_int("PageSize", GatewaySettings.page_size, minimum=1, maximum=10_000),
        calls_per_page=s.get_int("CallsPerPage", GatewaySettings.calls_per_page, minimum=2,
                                 maximum=10_000),
        max_calls_per_request=s.get_int("MaxCallsPerRequest",
                                        GatewaySettings.max_calls_per_request, minimum=10,
                                        maximum=100_000),
        expand_page_size=s.get_int("ExpandPageSize", GatewaySettings.expand_page_size,
                                   minimum=1, maximum=500),
        schema_cache_ttl=s.get_int("SchemaCacheTTL", 300, minimum=0, maximum=86_400),
        public_url=s.get_url("PublicURL"),
        host=s.get("Host", "127.0.0.1") or "127.0.0.1",
        port=s.get_int("Port", 8080, minimum=1, maximum=65_535),
    )
