"""The entity model of the exposed apps, read through the Kintone client and cached.

Which apps are exposed is the setting ``[kintone] Apps`` (ids or app codes); empty means every
app the credentials can list. API tokens cannot list apps (Kintone refuses ``apps.json`` for
them), so with ``AuthScheme=APIToken`` the apps are the ids in ``Apps``, or else the apps the
tokens belong to, each read with ``app.json``.
"""

from __future__ import annotations

from functools import partial

from ..kintone import KintoneClient
from ..model import Model, ModelCache, build_model
from ..settings import AuthScheme, KintoneSettings, Settings, SettingsError


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


def load_model(client: KintoneClient, settings: KintoneSettings) -> Model:
    """Reads the exposed apps and their form fields (one ``fields.json`` per app)."""
    apps = list_apps(client, settings)
    fields = {int(app["appId"]): client.get_form_fields(int(app["appId"]))["properties"]
              for app in apps}
    return build_model(apps, fields)


def model_cache(client: KintoneClient, settings: Settings) -> ModelCache:
    return ModelCache(partial(load_model, client, settings.kintone),
                      settings.gateway.schema_cache_ttl)
