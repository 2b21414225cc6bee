"""The entity model of the exposed apps, read through the Kintone client and cached.

Which apps are exposed is the setting ``[kintone] Apps`` (ids or app codes); empty means every
app the credentials can list. API tokens cannot list apps (Kintone refuses ``apps.json`` for
them), so with ``AuthScheme=APIToken`` the apps are the ids in ``Apps``, or else the apps the
tokens belong to, each read with ``app.json``.
"""

from __future__ import annotations

import logging
from functools import partial

from ..kintone import KintoneClient, KintoneError
from ..model import Aliases, Model, ModelCache, build_model
from ..settings import AuthScheme, KintoneSettings, Section, Settings, SettingsError

log = logging.getLogger("gateway.service")
GUEST_SPACE_PATH_REQUIRED = "GAIA_IL23"


def list_apps(client: KintoneClient, settings: KintoneSettings) -> list[dict]:
    """The app objects (as ``apps.json`` returns them) of the exposed apps, by ascending id."""
    if settings.auth_scheme is AuthScheme.API_TOKEN:
        apps = [client.get_app(app) for app in _token_app_ids(settings)]
    elif settings.apps:
        ids = [app for app in settings.apps if isinstance(app, int)]
        codes = [app for app in settings.apps if isinstance(app, str)]
        apps = _by_ids_and_codes(client, ids, codes)
    else:
        apps = client.get_apps()
    return sorted(apps, key=lambda app: int(app["appId"]))


def _token_app_ids(settings: KintoneSettings) -> list[int]:
    codes = [app for app in settings.apps if isinstance(app, str)]
    if codes:
        raise SettingsError(f"[kintone] Apps: app codes ({', '.join(codes)}) cannot be resolved "
                            "with API tokens; use app ids")
    return list(settings.apps) or sorted(settings.api_tokens)


def _by_ids_and_codes(client: KintoneClient, ids: list[int], codes: list[str]) -> list[dict]:
    found = {}
    # apps.json matches ids *or* codes only one list at a time, so ask for each list apart.
    for key, values in (("ids", ids), ("codes", codes)):
        if values:
            found.update((app["appId"], app) for app in client.get_apps(**{key: values}))
    return list(found.values())


def load_model(client: KintoneClient, settings: KintoneSettings,
               aliases: Aliases | None = None) -> Model:
    """Reads the exposed apps and their form fields (one ``fields.json`` per app)."""
    fields = {}
    for app in list_apps(client, settings):
        properties = _form_fields(client, int(app["appId"]))
        if properties is not None:
            fields[int(app["appId"])] = (app, properties)
    return build_model([app for app, _ in fields.values()],
                       {app_id: props for app_id, (_, props) in fields.items()}, aliases)


def _form_fields(client: KintoneClient, app: int) -> dict | None:
    """The app's fields, or None for an app of a guest space the connection is not set for.

    ``apps.json`` lists guest-space apps too, but they answer only on their space's path.
    """
    try:
        return client.get_form_fields(app)["properties"]
    except KintoneError as exc:
        if exc.code != GUEST_SPACE_PATH_REQUIRED:
            raise
        log.warning("App %s is in a guest space: not exposed (set [kintone] GuestSpaceId to "
                    "expose that space's apps).", app)
        return None


def model_cache(client: KintoneClient, settings: Settings) -> ModelCache:
    aliases = read_aliases(settings.section("gateway"))
    return ModelCache(partial(load_model, client, settings.kintone, aliases),
                      settings.gateway.schema_cache_ttl)


def read_aliases(section: Section) -> Aliases:
    """``EntitySetAliases = 12:Customers, ORDERS:Orders`` and
    ``PropertyAliases = 12.顧客名:CustomerName`` (app id or code, then a field code).

    They live in values, not keys, because INI keys are case-folded and codes are not.
    """
    sets = dict(_pairs(section, "EntitySetAliases"))
    properties = {}
    for target, name in _pairs(section, "PropertyAliases"):
        app, dot, code = target.partition(".")
        if not dot or not code:
            raise section.error("PropertyAliases", f"{target!r} is not APP.FIELD_CODE")
        properties[(_app_key(app), code)] = name
    return Aliases({_app_key(app): name for app, name in sets.items()}, properties)


def _pairs(section: Section, key: str) -> list[tuple[str, str]]:
    pairs = []
    for item in section.get_list(key):
        target, colon, name = item.rpartition(":")
        if not colon or not target.strip() or not name.strip():
            raise section.error(key, f"{item!r} is not TARGET:Name")
        pairs.append((target.strip(), name.strip()))
    return pairs


def _app_key(app: str) -> int | str:
    return int(app) if app.isdigit() else app
