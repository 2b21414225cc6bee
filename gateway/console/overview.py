"""The data of the Status and Apps pages."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from urllib.parse import quote

from redis import RedisError

from ..kintone import KintoneError
from ..model import Model
from ..model.schema import EntitySet, UnknownName
from ..service.schema import list_apps
from ..settings import AuthScheme, SettingsError
from .context import Console


@dataclass(frozen=True)
class Probe:
    reachable: bool
    latency_ms: float
    error: str | None = None


@dataclass(frozen=True)
class Status:
    domain: str
    auth_scheme: str
    kintone: Probe
    last_error: str | None
    redis: Probe | None  # None: a single instance
    version: str
    started: str
    uptime: str


def status(c: Console) -> Status:
    failure = c.activity.last_failure
    last_error = None
    if failure is not None:
        at = datetime.fromtimestamp(failure.at, UTC).isoformat(timespec="seconds")
        last_error = f"{at}: {failure.message} (Kintone error id {failure.error_id or '-'})"
    return Status(
        domain=c.settings.kintone.url, auth_scheme=c.settings.kintone.auth_scheme.value,
        kintone=_timed(lambda: list_apps(c.gateway.client, c.settings.kintone),
                       (KintoneError, SettingsError)),
        last_error=last_error,
        redis=(_timed(c.ops.cluster.ping, (RedisError,), hide_text=True)
               if c.ops.cluster is not None else None),
        version=_version(),
        started=datetime.fromtimestamp(c.started, UTC).isoformat(timespec="seconds"),
        uptime=_duration(time.time() - c.started))


def _timed(call: object, errors: tuple[type[Exception], ...], *, hide_text: bool = False
           ) -> Probe:
    started = time.perf_counter()
    try:
        call()  # type: ignore[operator]
    except errors as exc:
        # Redis's texts may name its host and user: only the kind of failure is shown.
        text = type(exc).__name__ if hide_text else str(exc)
        return Probe(False, _since(started), text)
    return Probe(True, _since(started))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _version() -> str:
    try:
        return metadata.version("kintone-gateway")
    except metadata.PackageNotFoundError:
        return "unknown"


def _duration(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    return (f"{days} d " if days else "") + f"{hour:02}:{minute:02}:{second:02}"


@dataclass(frozen=True)
class SetLinks:
    odata: str  # the feed for Power BI and Excel
    swagger: str  # the Swagger 2.0 document of this set, for Power Automate
    curl: str


@dataclass(frozen=True)
class AppRow:
    id: int
    code: str
    name: str
    space: str | None
    sets: tuple[EntitySet, ...]  # empty: not exposed
    why_not: str | None


def apps(c: Console, model: Model) -> list[AppRow]:
    """Every app the credentials can list (with API tokens: the apps of the tokens), exposed
    or not, and why not."""
    kintone = c.settings.kintone
    client = c.gateway.client
    seen = (list_apps(client, kintone) if kintone.auth_scheme is AuthScheme.API_TOKEN
            else client.get_apps())
    rows = []
    for app in sorted(seen, key=lambda a: int(a["appId"])):
        app_id = int(app["appId"])
        try:
            sets = (model.records_set(app_id), *model.subtable_sets(app_id))
        except UnknownName:
            sets = ()
        rows.append(AppRow(app_id, app.get("code") or "", app.get("name") or "",
                           app.get("spaceId"), sets, None if sets else _why_not(c, app)))
    return rows


def _why_not(c: Console, app: dict) -> str:
    listed = c.settings.kintone.apps
    if listed and int(app["appId"]) not in listed and (app.get("code") or None) not in listed:
        return "left out by [kintone] Apps"
    if app.get("spaceId"):
        return f"in space {app['spaceId']}, which these credentials cannot read"
    return "its form fields cannot be read with these credentials"


def links(service_root: str, entity_set: str) -> SetLinks:
    feed = f"{service_root}/{quote(entity_set)}"
    return SetLinks(
        odata=feed,
        swagger=f"{service_root}/$oas?sets={quote(entity_set)}",
        curl=f"curl -u USER:AUTHTOKEN '{feed}?$top=5'")
