"""App administration API: create apps, change their pre-live settings, deploy or revert them.

Every change goes to the app's preview settings and bumps their revision; the optional
``revision`` parameter guards it (409 GAIA_CO03). ``preview/app/deploy.json`` makes it live.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import app_admin, customize, form_admin, settings_admin
from ..apps import App, load_space
from ..auth import require_right
from ..context import Ctx
from ..errors import KintoneError, Problems, invalid
from ..fields import Form
from ..params import Params, to_int
from ..query import compile_query
from ..spaces import default_thread, has_thread
from .common import live_app
from .registry import endpoint

MAX_DEPLOY = 300
MAX_NAME = 64


# ---------------------------------------------------------------------------------------------
# Creating an app


@endpoint("POST", "preview/app", right=None, users_only=True)
def create_app(ctx: Ctx, params: Params) -> dict:
    name = params.str("name", required=True) or ""
    if not 1 <= len(name) <= MAX_NAME:
        raise invalid("name", "length_range", 1, MAX_NAME)
    space_id, thread_id = _placement(ctx, params)
    app_id = app_admin.create_app(ctx.db.conn, name=name, creator=ctx.caller.entity,
                                  now=ctx.now(), space_id=space_id, thread_id=thread_id,
                                  lang=ctx.sandbox.config.language)
    return {"app": str(app_id), "revision": "2"}


def _placement(ctx: Ctx, params: Params) -> tuple[int | None, int | None]:
    """The space and thread of a new app; guest spaces only through their guest path."""
    space_id = params.int("space", required=False, default=ctx.guest_space, minimum=1)
    if space_id is None:
        return None, None
    space = load_space(ctx.db.conn, space_id)
    if space is None:
        raise KintoneError("CB_NO02") if ctx.guest_space else KintoneError("GAIA_SP01", (space_id,))
    if space.get("isGuest") and ctx.guest_space is None:
        raise KintoneError("GAIA_IL23")
    if ctx.guest_space is not None and (space_id != ctx.guest_space or not space.get("isGuest")):
        raise KintoneError("CB_NO02")
    thread_id = params.int("thread", required=False, minimum=1)
    if thread_id is None:
        return space_id, default_thread(space, space_id)
    if not has_thread(space, thread_id):
        raise invalid("thread", "invalid_value")
    return space_id, thread_id


# ---------------------------------------------------------------------------------------------
# Changing the preview settings


def _revision(params: Params) -> int | None:
    return params.int("revision", required=False, minimum=-1)


def _change(ctx: Ctx, params: Params, mutate: Callable[[App, dict], object]) -> dict:
    """Apply ``mutate(app, settings)`` to the addressed app's preview; ``{"revision": "n"}``."""
    app = live_app(ctx, params.int("app"), preview=True)
    settings = app_admin.update_preview(ctx.db.conn, app.id, lambda s: mutate(app, s),
                                        revision=_revision(params))
    return {"revision": str(settings["revision"])}


def _apply_form(settings: dict, change: form_admin.FormChange) -> None:
    """A new form, with the layout, views and title field following renames and deletions."""
    settings["properties"] = change.properties
    settings["layout"] = settings_admin.edit_layout(settings["layout"], change.properties,
                                                    change.renamed)
    settings["layout"] += [settings_admin.layout_element(change.properties[code])
                           for code in change.added]
    settings["views"] = settings_admin.edit_views(settings["views"], change.properties,
                                                  change.renamed)
    title = settings["settings"]["titleField"]
    title["code"] = change.renamed.get(title["code"], title["code"])
    if title["code"] and title["code"] not in Form(change.properties):
        settings["settings"]["titleField"] = {"selectionMode": "AUTO", "code": ""}
    app_admin.note_renames(settings, change.renamed)


@endpoint("POST", "preview/app/form/fields", right="manage")
def add_fields(ctx: Ctx, params: Params) -> dict:
    def mutate(app: App, settings: dict) -> None:
        _apply_form(settings, form_admin.add_fields(
            ctx.db.conn, app.id, settings["properties"], params.raw("properties"), ctx.lang))

    return _change(ctx, params, mutate)


@endpoint("PUT", "preview/app/form/fields", right="manage")
def update_fields(ctx: Ctx, params: Params) -> dict:
    def mutate(app: App, settings: dict) -> None:
        _apply_form(settings, form_admin.update_fields(
            ctx.db.conn, app.id, settings["properties"], params.raw("properties"), ctx.lang))

    return _change(ctx, params, mutate)


@endpoint("DELETE", "preview/app/form/fields", right="manage")
def delete_fields(ctx: Ctx, params: Params) -> dict:
    codes = [str(code) for code in params.list("fields", required=True) or []]

    def mutate(app: App, settings: dict) -> None:
        properties = form_admin.delete_fields(settings["properties"], codes, ctx.lang)
        _apply_form(settings, form_admin.FormChange(properties))

    return _change(ctx, params, mutate)


@endpoint("PUT", "preview/app/form/layout", right="manage")
def update_layout(ctx: Ctx, params: Params) -> dict:
    def mutate(app: App, settings: dict) -> None:
        settings["layout"] = settings_admin.layout_update(
            params.raw("layout"), settings["properties"], ctx.lang)

    return _change(ctx, params, mutate)


@endpoint("PUT", "preview/app/views", right="manage")
def update_views(ctx: Ctx, params: Params) -> dict:
    def mutate(app: App, settings: dict) -> None:
        form = Form(settings["properties"])

        def check_query(text: str) -> None:
            if text.strip():
                compile_query(text, form, ctx, app=app.id, allow_paging=False)

        settings["views"] = settings_admin.views_update(
            params.raw("views"), settings["views"], form, ctx.lang, check_query,
            lambda: ctx.db.next_value("view_id"))

    answer = _change(ctx, params, mutate)
    app = live_app(ctx, params.int("app"), preview=True)
    return {"views": {name: {"id": view["id"]} for name, view in app.settings["views"].items()},
            **answer}


@endpoint("PUT", "preview/app/settings", right="manage")
def update_settings(ctx: Ctx, params: Params) -> dict:
    def mutate(app: App, settings: dict) -> None:
        settings["settings"] = settings_admin.settings_update(
            params.data, settings["settings"], Form(settings["properties"]), ctx.lang)

    return _change(ctx, params, mutate)


@endpoint("PUT", "preview/app/status", right="manage")
def update_status(ctx: Ctx, params: Params) -> dict:
    def mutate(app: App, settings: dict) -> None:
        process = settings_admin.status_update(
            params.data, settings["status"], Form(settings["properties"]), ctx.lang)
        settings["status"] = process
        for prop in settings["properties"].values():
            if prop["type"] in ("STATUS", "STATUS_ASSIGNEE"):
                prop["enabled"] = process["enable"]
        if process["enable"]:
            settings["views"] = settings_admin.assignee_view(
                settings["views"], ctx.sandbox.config.language,
                lambda: ctx.db.next_value("view_id"))
        else:
            settings["views"] = settings_admin.without_assignee_view(settings["views"])

    return _change(ctx, params, mutate)


@endpoint("PUT", "preview/app/customize", right="manage")
def update_customize(ctx: Ctx, params: Params) -> dict:
    def mutate(app: App, settings: dict) -> None:
        settings["customize"] = customize.customize_update(params.data, settings, ctx.db.conn,
                                                           ctx.now(), ctx.lang)

    return _change(ctx, params, mutate)


# ---------------------------------------------------------------------------------------------
# Deploying


@endpoint("POST", "preview/app/deploy", right=None)
def deploy(ctx: Ctx, params: Params) -> dict:
    items = _deploy_items(ctx, params)
    revert = params.bool("revert")
    conn = ctx.db.conn
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise KintoneError("CB_IJ01")
        app = _managed_app(ctx, item.get("app"), f"apps[{i}].app")
        revision = item.get("revision")
        if revision not in (None, ""):
            revision = to_int(revision, f"apps[{i}].revision", minimum=-1)
            app_admin.check_settings_revision(app.settings, revision)
        if revert:
            app_admin.revert(conn, app.id)
        else:
            app_admin.deploy(conn, app.id, now=ctx.now(), modifier=ctx.caller.entity, tz=ctx.tz)
    return {}


@endpoint("GET", "preview/app/deploy", right=None)
def deploy_status(ctx: Ctx, params: Params) -> dict:
    ids = _deploy_items(ctx, params)
    apps = [_managed_app(ctx, app_id, f"apps[{i}]") for i, app_id in enumerate(ids)]
    return {"apps": [{"app": str(app.id), "status": app_admin.deploy_status(ctx.db.conn, app.id)}
                     for app in apps]}


def _deploy_items(ctx: Ctx, params: Params) -> list:
    items = params.list("apps", required=True) or []
    if not 1 <= len(items) <= MAX_DEPLOY:
        problems = Problems(ctx.lang)
        problems.add("apps", "size_range", 1, MAX_DEPLOY)
        problems.raise_if_any()
    return items


def _managed_app(ctx: Ctx, raw: object, key: str) -> App:
    if raw in (None, ""):
        raise invalid(key, "required_param")
    app_id = to_int(raw, key, minimum=1)
    require_right(ctx, app_id, "manage")
    return live_app(ctx, app_id, preview=True)
