"""Apps and app settings, read side: ``app.json``, ``apps.json`` and the settings GET APIs.

Every settings API exists twice: ``app/...`` reads the deployed settings (record view right),
``preview/app/...`` the pre-live ones (app management right; the customization takes it live
too). Both answer with ``revision``.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import customize
from ..app_admin import app_json
from ..apps import App
from ..context import Ctx
from ..errors import Problems, invalid
from ..params import Params, to_int
from .common import live_app
from .registry import endpoint

MAX_APPS = 100
MAX_OFFSET = 2**31 - 1
LANGS = ("default", "en", "ja", "zh", "user", "es", "pt-BR", "th", "zh-TW")


@endpoint("GET", "app", app_param="id")
def get_app(ctx: Ctx, params: Params) -> dict:
    app = live_app(ctx, params.int("id", minimum=1))
    row = ctx.db.conn.execute(
        "SELECT id, code, space_id, info FROM apps WHERE id = ?", (app.id,)
    ).fetchone()
    return app_json(row)


@endpoint("GET", "apps", right=None, users_only=True)
def get_apps(ctx: Ctx, params: Params) -> dict:
    problems = Problems(ctx.lang)
    ids = _filter_list(params, "ids", problems)
    codes = _filter_list(params, "codes", problems)
    space_ids = _filter_list(params, "spaceIds", problems)
    problems.raise_if_any()
    limit = params.int("limit", required=False, default=MAX_APPS, minimum=1, maximum=MAX_APPS)
    offset = params.int("offset", required=False, default=0, minimum=0, maximum=MAX_OFFSET)
    where, args = ["deployed = 1"], []
    for column, values, convert in (("id", ids, _id_list("ids")), ("code", codes, _text_list),
                                    ("space_id", space_ids, _id_list("spaceIds"))):
        if values:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            args.extend(convert(values))
    if ctx.guest_space is not None:  # a guest path lists that guest space's apps
        where.append("space_id = ?")
        args.append(ctx.guest_space)
    rows = ctx.db.conn.execute(
        f"SELECT id, code, space_id, info FROM apps WHERE {' AND '.join(where)} ORDER BY id",
        args,
    ).fetchall()
    name = (params.str("name") or "").casefold()
    apps = [app_json(row) for row in rows if _visible(ctx, row["id"])]
    apps = [a for a in apps if name in a["name"].casefold()]
    return {"apps": apps[offset:offset + limit]}


def _filter_list(params: Params, name: str, problems: Problems) -> list | None:
    values = params.list(name)
    if values is not None and len(values) > MAX_APPS:
        problems.add(name, "size_range", 0, MAX_APPS)
    return values


def _id_list(name: str) -> Callable[[list], list[int]]:
    return lambda values: [to_int(v, f"{name}[{i}]", minimum=1) for i, v in enumerate(values)]


def _text_list(values: list) -> list[str]:
    return [str(v) for v in values]


def _visible(ctx: Ctx, app_id: int) -> bool:
    """Apps the user may view records of (the ``appRights`` of the sandbox directory)."""
    rights = (ctx.caller.user or {}).get("appRights", {}).get(str(app_id))
    return rights is None or "view" in rights


# ---------------------------------------------------------------------------------------------
# Settings: live and preview variants of each GET


def _settings_getter(api: str, shape: Callable[[App, Params], dict], *,
                     right: str = "view") -> None:
    def get_live(ctx: Ctx, params: Params) -> dict:
        return _answer(live_app(ctx, params.int("app")), params, shape)

    def get_preview(ctx: Ctx, params: Params) -> dict:
        return _answer(live_app(ctx, params.int("app"), preview=True), params, shape)

    endpoint("GET", api, right=right)(get_live)
    endpoint("GET", f"preview/{api}", right="manage")(get_preview)


def _answer(app: App, params: Params, shape: Callable[[App, Params], dict]) -> dict:
    return {**shape(app, params), "revision": str(app.revision)}


def _lang(params: Params) -> None:
    lang = params.str("lang")
    if lang is not None and lang not in LANGS:
        raise invalid("lang", "enum")


def _shape(key: str | None) -> Callable[[App, Params], dict]:
    """The body of a settings GET: one key of the settings document (or, with None, all of
    the app settings), after the common ``lang`` check."""
    def shape(app: App, params: Params) -> dict:
        _lang(params)
        return {key: app.settings[key]} if key else dict(app.app_settings)

    return shape


def _status(app: App, params: Params) -> dict:
    _lang(params)
    return dict(app.process)


_settings_getter("app/form/fields", _shape("properties"))
_settings_getter("app/form/layout", _shape("layout"))
_settings_getter("app/views", _shape("views"))
_settings_getter("app/settings", _shape(None))
_settings_getter("app/status", _status)
# Reading the customization, live or not, takes the app administration right.
_settings_getter("app/customize", lambda app, _: customize.current(app.settings), right="manage")
