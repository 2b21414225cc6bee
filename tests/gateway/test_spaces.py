"""Apps of every space through one gateway with no guest-space setting: an app outside any
space, one in a space and one in each of two guest spaces, all named alike. Each is read,
filtered, written, commented, moved through its process, given a file and triggered (polling
and webhooks), every Kintone call on the app's own path."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import requests

from gateway.kintone import KintoneClient
from gateway.service import load_model
from gateway.settings import AuthScheme, KintoneSettings, Secret
from tests.conftest import ADMIN, USER
from tests.gateway.conftest import Gateway, kintone_settings
from tests.kintone_http import Kintone
from tests.triggers.conftest import (  # noqa: F401  (fixtures)
    Receiver,
    clock,
    inbound_url,
    receiver,
    start_triggers,
)
from tests.writes.conftest import call, error, ok

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "amount": {"type": "NUMBER", "code": "amount", "label": "Amount"},
    "docs": {"type": "FILE", "code": "docs", "label": "Docs"},
}
NOBODY = {"type": "ONE", "entities": []}  # no assignee to choose: actions need none
PROCESS = {
    "enable": True,
    "states": {name: {"name": name, "index": str(i), "assignee": NOBODY}
               for i, name in enumerate(("Open", "Doing"))},
    "actions": [{"name": "Start", "from": "Open", "to": "Doing", "filterCond": ""}],
}
AREAS = ("none", "space", "guest 1", "guest 2")


def _space(extension, name: str, guest: bool) -> int:
    return extension("spaces", {"name": name, "isGuest": guest, "creator": ADMIN[0]})["id"]


@pytest.fixture(scope="module")
def apps(extension, make_app) -> dict[str, tuple[int, int | None]]:
    """Area -> (app id, space id); every app is named "Orders" and has two records."""
    spaces = {"none": None, "space": _space(extension, "Team", False),
              "guest 1": _space(extension, "Client A", True),
              "guest 2": _space(extension, "Client B", True)}
    records = [{"title": {"value": t}, "amount": {"value": a}} for t, a in (("a", "1"),
                                                                             ("b", "5"))]
    made = {}
    for area, space in spaces.items():
        extra = {"space": space} if space else {}
        made[area] = make_app(FIELDS, records, name="Orders", process=PROCESS, **extra)[0], space
    return made


@pytest.fixture(scope="module")
def sets(apps) -> dict[str, str]:
    """Names step aside by app id, whatever the space: the oldest app keeps "Orders"."""
    ids = sorted(app for app, _ in apps.values())
    names = {ids[0]: "Orders", **{app: f"Orders_{app}" for app in ids[1:]}}
    return {area: names[app] for area, (app, _) in apps.items()}


@pytest.fixture(scope="module")
def gw(start_triggers, apps, extension) -> Gateway:  # noqa: F811
    gw = start_triggers([app for app, _ in apps.values()])
    for app, _ in apps.values():
        extension(f"apps/{app}/webhooks", {"url": inbound_url(gw),
                                           "events": ["ADD_RECORD", "ADD_RECORD_COMMENT"]})
    return gw


def test_every_space_is_exposed_under_names_that_never_collide(gw, apps, sets):
    listed = {s["name"] for s in gw.json()["value"]}
    assert set(sets.values()) <= listed
    spaces = {row["Id"]: row["SpaceId"] for row in gw.json("Apps")["value"]}
    assert {area: spaces[app] for area, (app, _) in apps.items()} == {
        area: space for area, (_, space) in apps.items()}
    guests = {app for area, (app, _) in apps.items() if area.startswith("guest")}
    assert {app for app in guests if gw.client.guest_space(app)} == guests
    assert gw.client.guest_space(apps["space"][0]) is None


@pytest.mark.parametrize("area", AREAS)
def test_read_filter_write_comment_act_and_attach(gw, sets, apps, area):
    name, app = sets[area], apps[area][0]
    assert [r["title"] for r in gw.json(name, params={"$orderby": "Id"})["value"]] == ["a", "b"]
    found = gw.json(name, params={"$filter": "amount gt 2", "$count": "true"})
    assert (found["@odata.count"], found["value"][0]["title"]) == (1, "b")
    added = ok(call(gw, "POST", name, {"title": f"new in {area}", "amount": 9}), 201)
    ok(call(gw, "PATCH", f"{name}({added['Id']})", {"amount": 10}), 204)
    assert gw.json(f"{name}({added['Id']})")["amount"] == 10
    comment = ok(call(gw, "POST", "Comments", {"AppId": app, "RecordId": added["Id"],
                                               "Text": f"hello {area}"}), 201)
    assert comment["Text"].strip() == f"hello {area}"
    comments = gw.json("Comments", params={
        "$filter": f"AppId eq {app} and RecordId eq {added['Id']}"})["value"]
    assert [c["Text"].strip() for c in comments] == [f"hello {area}"]
    ok(call(gw, "POST", f"{name}({added['Id']})/Kintone.UpdateStatus", {"Action": "Start"}), 204)
    assert gw.json(f"{name}({added['Id']})")["Status"] == "Doing"
    upload = call(gw, "POST", f"{name}({added['Id']})/docs", headers={
        "Content-Type": "text/plain", "Content-Disposition": 'attachment; filename="n.txt"'},
        data=area.encode())
    ok(upload, 201)
    assert requests.get(upload.headers["Location"], headers=gw.auth, timeout=30).content == (
        area.encode())
    ok(call(gw, "DELETE", f"{name}({added['Id']})"), 204)
    assert error(call(gw, "GET", f"{name}({added['Id']})"), 404)
    together = [{"id": str(n), "method": "POST", "url": name, "body": {"title": f"t{n}"},
                 "atomicityGroup": "g"} for n in (1, 2)]
    answers = ok(call(gw, "POST", "$batch", {"requests": together}))["responses"]
    assert [r["status"] for r in answers] == [201, 201]  # one Kintone bulk request


def test_one_atomic_group_cannot_span_two_guest_spaces(gw, sets):
    mixed = [{"id": area, "method": "POST", "url": sets[area], "body": {"title": "x"},
              "atomicityGroup": "g"} for area in ("guest 1", "guest 2")]
    answers = ok(call(gw, "POST", "$batch", {"requests": mixed}))["responses"]
    assert {r["status"] for r in answers} <= {400, 424} and 400 in {r["status"] for r in answers}
    assert "different guest spaces" in str(answers)


def test_triggers_follow_each_app(gw, sets, apps, server, receiver: Receiver,  # noqa: F811
                                  clock):  # noqa: F811
    clock(now=None, offset_seconds=7200)  # a minute of its own for Kintone's webhook cap
    polls = {}
    for area, name in sets.items():
        for event in ("added", "commented"):
            response = requests.post(gw.url(f"$triggers/{name}/webhooks/{event}"),
                                     json={"callbackUrl": receiver.url}, headers=gw.auth,
                                     timeout=30)
            assert response.status_code == 201, response.text
        first = requests.get(gw.url(f"$triggers/{name}/added"), headers=gw.auth, timeout=30)
        assert first.status_code == 202, first.text
        polls[area] = first.headers["Location"]
    for area, (app, space) in apps.items():
        # Kintone sends no webhook for records.json, which the gateway's POST uses.
        guest = space if area.startswith("guest") else None
        kintone = Kintone.with_password(server.url, *ADMIN, guest_space=guest)
        added = kintone.ok("POST", "record", {"app": app, "record": {
            "title": {"value": f"hook {area}"}}})
        ok(call(gw, "POST", "Comments", {"AppId": app, "RecordId": int(added["id"]),
                                         "Text": "seen"}), 201)
    events = {(body["EntitySet"], body["Event"]) for body in receiver.wait_for(8)}
    assert events == {(name, event) for name in sets.values()
                      for event in ("ADD_RECORD", "ADD_RECORD_COMMENT")}
    for area, location in polls.items():
        found = requests.get(location, headers=gw.auth, timeout=30)
        assert found.status_code == 200, found.text
        assert [r["title"] for r in found.json()["value"]] == [f"hook {area}"]


def test_api_tokens_find_their_apps_in_the_guest_spaces_listed(start_gateway, extension, apps,
                                                                server):
    """Tokens can neither list apps nor read spaces: each token's app is looked for on /k/v1,
    then in each space of GuestSpaceId; one no path knows is left out."""
    tokens = {app: extension(f"apps/{app}/tokens", {})["token"] for app, _ in apps.values()}
    listed = (apps["guest 2"][1], apps["guest 1"][1])
    settings = KintoneSettings(url=server.url, auth_scheme=AuthScheme.API_TOKEN,
                               api_tokens={app: Secret(t) for app, t in tokens.items()},
                               guest_space_ids=listed)
    gw = start_gateway([], kintone=settings)
    exposed = {s["name"] for s in gw.json()["value"]}
    ids = sorted(tokens)
    assert {"Orders", *(f"Orders_{app}" for app in ids[1:])} <= exposed
    for app, _ in apps.values():
        name = "Orders" if app == ids[0] else f"Orders_{app}"
        assert [r["title"] for r in gw.json(name, params={"$orderby": "Id",
                                                          "$top": "2"})["value"]] == ["a", "b"]
    one_space = replace(settings, guest_space_ids=listed[:1])
    partial = {s["name"] for s in start_gateway([], kintone=one_space).json()["value"]}
    assert f"Orders_{apps['guest 2'][0]}" in partial
    assert f"Orders_{apps['guest 1'][0]}" not in partial


class SpaceCountingClient(KintoneClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.space_calls = 0

    def get_space(self, space: int, *, guest: bool = False) -> dict:
        self.space_calls += 1
        return super().get_space(space, guest=guest)


def test_a_rebuild_asks_about_no_space_it_knows(server, apps):
    with SpaceCountingClient(kintone_settings(server.url, tuple(a for a, _ in apps.values()))
                             ) as client:
        known: dict[int, bool] = {}
        first = load_model(client, client.settings, spaces=known)
        assert client.space_calls == 3  # the space and the two guest spaces, once each
        assert known == {space: area.startswith("guest") for area, (_, space) in apps.items()
                         if space}
        again = load_model(client, client.settings, spaces=known)
        assert client.space_calls == 3 and again.entity_sets.keys() == first.entity_sets.keys()
        assert {client.guest_space(app) for app, _ in apps.values()} == {
            None, apps["guest 1"][1], apps["guest 2"][1]}


def test_a_space_the_user_cannot_read_leaves_its_apps_on_the_normal_path(
        start_gateway, extension, make_app, server, caplog):
    space = extension("spaces", {"name": "Private", "isGuest": False, "isPrivate": True,
                                 "creator": ADMIN[0], "members": [ADMIN[0]]})["id"]
    app = make_app(FIELDS, [{"title": {"value": "kept"}}], name="Hidden space", space=space)[0]
    alice = replace(kintone_settings(server.url, (app,)), user=USER[0],
                    password=Secret(USER[1]))
    gw = start_gateway([], kintone=alice)
    assert [r["title"] for r in gw.json("HiddenSpace")["value"]] == ["kept"]
    assert gw.client.guest_space(app) is None
    assert f"Space {space} could not be read" in caplog.text
