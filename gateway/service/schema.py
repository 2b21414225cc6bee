"""The entity model of the exposed apps, read through the Kintone client and cached.

Which apps are exposed is the setting ``[kintone] Apps`` (ids or app codes); empty means every
app the credentials can list. API tokens cannot list apps (Kintone refuses ``apps.json`` for
them), so with ``AuthScheme=APIToken`` the apps are the ids in ``Apps``, or else the apps the
tokens belong to, each read with ``app.json``.

Apps of every space are exposed, each called on its own path. ``apps.json`` lists the apps of
guest spaces too, with their ``spaceId``; ``space.json`` on ``/k/v1`` tells a normal space
(``isGuest: false``) from a guest space (``GAIA_IL23``, or an answer on the guest space's own
path), once per space for the life of the model cache. An API token
can read neither, so its app is looked for with ``app.json`` on ``/k/v1``, then in each space
of ``[kintone] GuestSpaceId``. Loading the model routes the client's calls accordingly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..kintone import KintoneClient, KintoneError
from ..model import Aliases, Model, ModelCache, build_model
from ..settings import AuthScheme, KintoneSettings, Section, Settings, SettingsError
from .snapshot import Forms, SchemaStore, Snapshot

log = logging.getLogger("gateway.service")
GUEST_SPACE_PATH_REQUIRED = "GAIA_IL23"
NO_PRIVILEGE = "CB_NO02"  # also: a guest path that is not the app's
WRONG_PATH = frozenset({GUEST_SPACE_PATH_REQUIRED, NO_PRIVILEGE})
MAX_APPS_FILTER = 100  # ids or codes apps.json takes in one call


@dataclass
class ExposedApps:
    """The app objects (as ``apps.json`` returns them) by ascending id, and the guest space of
    each app that lives in one."""

    apps: list[dict]
    guest_spaces: dict[int, int] = field(default_factory=dict)


def list_apps(client: KintoneClient, settings: KintoneSettings) -> list[dict]:
    """The app objects (as ``apps.json`` returns them) of the exposed apps, by ascending id."""
    if settings.auth_scheme is AuthScheme.API_TOKEN:
        return find_apps(client, settings).apps
    return _listed(client, settings)


def find_apps(client: KintoneClient, settings: KintoneSettings,
              spaces: dict[int, bool] | None = None) -> ExposedApps:
    """The exposed apps and the guest spaces they live in. ``spaces`` (space id -> whether it
    is a guest space) saves asking again about a space known from an earlier call: a space
    never changes kind."""
    if settings.auth_scheme is AuthScheme.API_TOKEN:
        found = _token_apps(client, _token_app_ids(settings), settings.guest_space_ids)
        found.apps.sort(key=_app_id)
        return found
    apps = _listed(client, settings)
    return ExposedApps(apps, _guest_spaces_of(client, apps, {} if spaces is None else spaces))


def _listed(client: KintoneClient, settings: KintoneSettings) -> list[dict]:
    if settings.apps:
        ids = [app for app in settings.apps if isinstance(app, int)]
        codes = [app for app in settings.apps if isinstance(app, str)]
        apps = _by_ids_and_codes(client, ids, codes)
    else:
        apps = client.get_apps()
    return sorted(apps, key=_app_id)


def _app_id(app: dict) -> int:
    return int(app["appId"])


def _guest_spaces_of(client: KintoneClient, apps: list[dict],
                     known: dict[int, bool]) -> dict[int, int]:
    """App id -> guest space id, one ``space.json`` per space not ``known`` yet."""
    spaces = {int(app["spaceId"]) for app in apps if app.get("spaceId")}
    for space in sorted(spaces - known.keys()):
        guest = _is_guest(client, space)
        if guest is not None:
            known[space] = guest
    guests = {space for space in spaces if known.get(space)}
    return {int(app["appId"]): int(app["spaceId"]) for app in apps
            if app.get("spaceId") and int(app["spaceId"]) in guests}


def _is_guest(client: KintoneClient, space: int) -> bool | None:
    """Whether ``space`` is a guest space; None when it could not be read (asked again next
    time). ``/k/v1`` answers a normal space; a guest space answers on its own path."""
    failure = None
    for guest in (False, True):
        try:
            return bool(client.get_space(space, guest=guest).get("isGuest"))
        except KintoneError as exc:
            if exc.code == GUEST_SPACE_PATH_REQUIRED:
                return True
            if exc.status >= 500 or exc.status == 401:
                raise
            failure = exc
    # Its apps are still tried on /k/v1; a guest one is then left out (_form_fields).
    log.warning("Space %s could not be read (%s): its apps are called on /k/v1.", space, failure)
    return None


def _token_apps(client: KintoneClient, ids: Iterable[int],
                guest_spaces: tuple[int, ...]) -> ExposedApps:
    found = ExposedApps([])
    for app_id in ids:
        located = _locate(client, app_id, guest_spaces)
        if located is None:
            log.warning("App %s answers neither on /k/v1 nor in the guest spaces of "
                        "[kintone] GuestSpaceId (%s): not exposed.", app_id,
                        ", ".join(map(str, guest_spaces)) or "none")
            continue
        app, space = located
        found.apps.append(app)
        if space is not None:
            found.guest_spaces[app_id] = space
    return found


def _locate(client: KintoneClient, app: int, guest_spaces: tuple[int, ...]
            ) -> tuple[dict, int | None] | None:
    """``app.json`` of the app and its guest space: tried where it was last found first."""
    for space in dict.fromkeys((client.guest_space(app), None, *guest_spaces)):
        try:
            return client.get_app(app, guest_space=space), space
        except KintoneError as exc:
            if exc.code not in WRONG_PATH:
                raise
    return None


def _token_app_ids(settings: KintoneSettings) -> list[int]:
    codes = [app for app in settings.apps if isinstance(app, str)]
    if codes:
        raise SettingsError(f"[kintone] Apps: app codes ({', '.join(codes)}) cannot be resolved "
                            "with API tokens; use app ids")
    return [app for app in settings.apps if isinstance(app, int)] or sorted(settings.api_tokens)


def _by_ids_and_codes(client: KintoneClient, ids: list[int], codes: list[str]) -> list[dict]:
    found: dict[str, dict] = {}
    # apps.json matches ids *or* codes only one list at a time, so ask for each list apart,
    # and at most 100 of them a call.
    lists: tuple[tuple[str, Any], ...] = (("ids", ids), ("codes", codes))
    for key, values in lists:
        for start in range(0, len(values), MAX_APPS_FILTER):
            chunk = values[start:start + MAX_APPS_FILTER]
            found.update((app["appId"], app) for app in client.get_apps(**{key: chunk}))
    return list(found.values())


Revisions = dict[int, tuple[str, str]]  # app id -> (name, form revision)


class SchemaSource:
    """The model cache's loader, which remembers what the model was built from, and its check
    of whether that changed: the exposed apps, their names and form revisions (Kintone bumps
    an app's revision at each deploy of its settings). A check costs the Kintone calls of a
    load (one ``fields.json`` per app) but no rebuild while nothing changed, so the model and
    whatever is cached per model (documents, ETags) stay.

    With a ``store`` (a cluster), what was read is shared as a ``Snapshot``: a load builds from
    the snapshot when there is one, and only the instance whose claim is granted reads Kintone
    for a check; the others compare the snapshot with what they built from."""

    def __init__(self, client: KintoneClient, settings: KintoneSettings,
                 aliases: Aliases | None = None, spaces: dict[int, bool] | None = None,
                 store: SchemaStore | None = None) -> None:
        self._client = client
        self._settings = settings
        self._aliases = aliases
        self._store = store
        # Kept across loads and checks, which the cache runs one at a time (see find_apps).
        self._spaces = {} if spaces is None else spaces
        self._built: Revisions | None = None

    def load(self) -> Model:
        shared = self._shared()
        return self._built_from(shared if shared is not None else self._read())

    def refreshed(self) -> Model | None:
        """A model built anew if the apps changed since the last one was built, else None.
        Built from the forms the check read: a change costs no more calls than a check."""
        if self._store is None or self._store.claim_check():
            snapshot: Snapshot | None = self._read()
        else:  # another instance checks; what it read may be newer than what this one built
            snapshot = self._shared()
        if snapshot is None or _revisions(snapshot.forms) == self._built:
            return None
        return self._built_from(snapshot)

    def _read(self) -> Snapshot:
        """What Kintone says now, shared with the other instances."""
        snapshot = _from_kintone(self._client, self._settings, self._spaces)
        if self._store is not None:
            self._store.put(snapshot.to_json())
        return snapshot

    def _shared(self) -> Snapshot | None:
        data = self._store.get() if self._store is not None else None
        snapshot = Snapshot.from_json(data) if data is not None else None
        if snapshot is not None:  # another instance's reading: its routes are new here
            self._spaces.update(snapshot.spaces)
            self._client.route(snapshot.guest_spaces)
        return snapshot

    def _built_from(self, snapshot: Snapshot) -> Model:
        forms = snapshot.forms
        model = build_model([app for app, _ in forms],
                            {int(app["appId"]): form["properties"] for app, form in forms},
                            self._aliases)
        self._built = _revisions(forms)
        return model


def load_model(client: KintoneClient, settings: KintoneSettings,
               aliases: Aliases | None = None, spaces: dict[int, bool] | None = None) -> Model:
    """Reads the exposed apps and their form fields (one ``fields.json`` per app), and routes
    the client's calls about each app to its path (``spaces``: see ``find_apps``)."""
    return SchemaSource(client, settings, aliases, spaces).load()


def _from_kintone(client: KintoneClient, settings: KintoneSettings,
                  spaces: dict[int, bool]) -> Snapshot:
    """The exposed apps and their ``fields.json`` bodies; routes the client's calls about
    each app to its path (``spaces``: see ``find_apps``)."""
    exposed = find_apps(client, settings, spaces)
    client.route(exposed.guest_spaces)
    forms = []
    for app in exposed.apps:
        form = _form_fields(client, int(app["appId"]))
        if form is not None:
            forms.append((app, form))
    return Snapshot(forms, exposed.guest_spaces, dict(spaces))


def _revisions(forms: Forms) -> Revisions:
    return {int(app["appId"]): (str(app.get("name")), str(form.get("revision")))
            for app, form in forms}


def _form_fields(client: KintoneClient, app: int) -> dict | None:
    """The app's ``fields.json``, or None for an app of a guest space whose path is not known
    (its space could not be read)."""
    try:
        return client.get_form_fields(app)
    except KintoneError as exc:
        if exc.code != GUEST_SPACE_PATH_REQUIRED:
            raise
        log.warning("App %s is in a guest space that could not be read: not exposed.", app)
        return None


def model_cache(client: KintoneClient, settings: Settings,
                store: SchemaStore | None = None) -> ModelCache:
    """The model, re-read once an app's form changed: checked every ``[gateway]
    SchemaCacheTTL`` seconds (by one instance of those sharing ``store``)."""
    source = SchemaSource(client, settings.kintone, read_aliases(settings.section("gateway")),
                          store=store)
    return ModelCache(source.load, settings.gateway.schema_cache_ttl, refreshed=source.refreshed)


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
