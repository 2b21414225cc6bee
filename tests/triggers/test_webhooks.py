"""Webhook triggers end to end: the sandbox's webhooks really POST to the gateway's inbound
endpoint, which fans each event out to the subscribers (tiny HTTP receivers) through the
durable queue: all five events, a subscriber down for a while, a gateway restart, dead letters."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from gateway.triggers import shutdown
from tests.conftest import ADMIN
from tests.gateway.conftest import Gateway
from tests.kintone_http import Kintone
from tests.triggers.conftest import SECRET, Receiver, inbound_url

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
PROCESS = {
    "enable": True,
    "states": {name: {"name": name, "index": str(i), "assignee": {"type": "ONE", "entities": [
        {"entity": {"type": "USER", "code": "admin"}, "includeSubs": False}]}}
        for i, name in enumerate(("Open", "Doing"))},
    "actions": [{"name": "Start", "from": "Open", "to": "Doing", "filterCond": ""}],
}
EVENTS = ("ADD_RECORD", "UPDATE_RECORD", "DELETE_RECORD", "UPDATE_STATUS", "ADD_RECORD_COMMENT")
_hours = itertools.count(1)
_apps = itertools.count(1)


@pytest.fixture(autouse=True)
def fresh_minute(clock) -> None:
    """Kintone sends at most 60 notifications a minute (by the sandbox's clock): each test
    gets a minute of its own."""
    clock(now=None, offset_seconds=3600 * next(_hours))


@pytest.fixture()
def admin(server) -> Kintone:
    return Kintone.with_password(server.url, *ADMIN)


@pytest.fixture()
def new_app(make_app) -> Callable[[], tuple[int, str]]:
    """An app of its own per test, and its entity set's name."""

    def make() -> tuple[int, str]:
        name = f"Hooks{next(_apps)}"
        app, _ = make_app(FIELDS, name=name, process=PROCESS)
        return app, name

    return make


def hook(extension, app: int, gw: Gateway) -> None:
    extension(f"apps/{app}/webhooks", {"url": inbound_url(gw), "events": list(EVENTS)})


def subscribe(gw: Gateway, entity_set: str, event: str, callback: str) -> requests.Response:
    response = requests.post(gw.url(f"$triggers/{entity_set}/webhooks/{event}"),
                             json={"callbackUrl": callback}, headers=gw.auth, timeout=30)
    assert response.status_code == 201, response.text
    return response


def add(admin: Kintone, app: int, title: str) -> int:
    return int(admin.ok("POST", "record", {"app": app, "record": {"title": {"value": title}}})
               ["id"])


@pytest.fixture()
def gw_and_app(start_triggers, new_app, extension) -> Iterator[tuple[Gateway, int, str]]:
    app, name = new_app()
    gw = start_triggers([app])
    hook(extension, app, gw)
    yield gw, app, name


def test_each_of_the_five_events(gw_and_app, admin: Kintone, receiver: Receiver, server):
    gw, app, name = gw_and_app
    for event in ("added", "updated", "deleted", "commented", "status"):
        subscribe(gw, name, event, receiver.url)
    record = add(admin, app, "first")
    admin.ok("PUT", "record", {"app": app, "id": record, "record": {"title": {"value": "2nd"}}})
    admin.ok("PUT", "record/status", {"app": app, "id": record, "action": "Start",
                                      "assignee": "admin"})
    comment = admin.ok("POST", "record/comment", {"app": app, "record": record,
                                                  "comment": {"text": "hello"}})["id"]
    requests.post(f"{server.url}/__sandbox/apps/{app}/records/{record}/ui-delete", json={},
                  timeout=30).raise_for_status()
    by_event = {body["Event"]: body for body in receiver.wait_for(5)}
    assert sorted(by_event) == sorted(EVENTS)
    for body in by_event.values():
        assert body["EntitySet"] == name and body["AppId"] == app
        assert body["RecordId"] == record and body["EventId"]
    assert by_event["ADD_RECORD"]["Record"]["title"] == "first"
    assert by_event["ADD_RECORD"]["Record"]["Id"] == record
    assert by_event["UPDATE_RECORD"]["Record"]["title"] == "2nd"
    assert by_event["UPDATE_RECORD"]["Record"]["@odata.etag"] == 'W/"2"'
    assert by_event["UPDATE_STATUS"]["Record"]["Status"] == "Doing"
    assert by_event["ADD_RECORD_COMMENT"]["Comment"]["Id"] == int(comment)
    assert by_event["ADD_RECORD_COMMENT"]["Comment"]["Text"].strip() == "hello"
    assert by_event["DELETE_RECORD"]["DeletedBy"]["Code"]
    assert by_event["DELETE_RECORD"]["DeletedAt"].endswith("Z")
    time.sleep(0.3)
    assert len(receiver.received) == 5  # each once


def test_unsubscribe(gw_and_app, admin: Kintone, receiver: Receiver):
    gw, app, name = gw_and_app
    location = subscribe(gw, name, "added", receiver.url).headers["Location"]
    assert location.startswith(gw.root + "/$triggers/webhooks/")
    assert requests.delete(location, headers=gw.auth, timeout=30).status_code == 204
    assert requests.delete(location, headers=gw.auth, timeout=30).status_code == 404
    watcher = Receiver()
    try:
        subscribe(gw, name, "added", watcher.url)
        add(admin, app, "after")
        watcher.wait_for(1)
        assert receiver.received == []
    finally:
        watcher.down()


def test_a_subscriber_down_for_a_while_gets_everything(gw_and_app, admin: Kintone,
                                                       receiver: Receiver):
    gw, app, name = gw_and_app
    subscribe(gw, name, "added", receiver.url)
    receiver.down()
    ids = [add(admin, app, f"r{n}") for n in range(5)]
    time.sleep(1)  # several attempts fail meanwhile
    receiver.up()
    bodies = receiver.wait_for(5)
    assert sorted(b["RecordId"] for b in bodies) == ids


def test_a_restart_loses_nothing(start_triggers, new_app, extension, admin: Kintone,
                                 receiver: Receiver, tmp_path: Path, server):
    database = str(tmp_path / "triggers.sqlite")
    app, name = new_app()
    first = start_triggers([app], database=database, retryseconds="0.5", maxretryseconds="1")
    hook(extension, app, first)
    subscribe(first, name, "added", receiver.url)
    receiver.down()
    ids = [add(admin, app, f"r{n}") for n in range(3)]
    # Every Kintone webhook must have reached the first gateway before it stops: one still in
    # flight could be queued while the gateway shuts down.
    deadline = time.monotonic() + 10
    while _accepted(server.url, app) < len(ids):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.stop()
    shutdown(first.app)
    receiver.up()
    time.sleep(0.5)
    assert receiver.received == []  # nobody delivers while no gateway runs
    start_triggers([app], database=database)
    bodies = receiver.wait_for(3)
    assert sorted(b["RecordId"] for b in bodies) == ids


def _accepted(sandbox_url: str, app: int) -> int:
    """How many of the sandbox's webhook deliveries for ``app`` the gateway answered with 2xx."""
    log = requests.get(f"{sandbox_url}/__sandbox/webhooks/deliveries",
                       timeout=30).json()["deliveries"]
    return sum(1 for d in log if d["payload"].get("app", {}).get("id") == str(app)
               and 200 <= (d["status"] or 0) < 300)


def test_dead_letters(start_triggers, new_app, extension, admin: Kintone, receiver: Receiver):
    app, name = new_app()
    gw = start_triggers([app], maxattempts="2")
    hook(extension, app, gw)
    subscribe(gw, name, "added", receiver.url)
    receiver.down()
    record = add(admin, app, "lost")
    deadline = time.monotonic() + 10
    while True:
        letters = requests.get(gw.url("$triggers/deadletters"), headers=gw.auth,
                               timeout=30).json()["value"]
        if letters or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(letters) == 1
    letter = letters[0]
    assert letter["Attempts"] == 2 and letter["EntitySet"] == name
    assert letter["Event"] == "ADD_RECORD" and letter["Body"]["RecordId"] == record
    assert "sig" not in letter["Callback"] and "could not be reached" in letter["Error"]


def test_inbound_checks(gw_and_app, admin: Kintone):
    gw, _app, _name = gw_and_app
    wrong = requests.post(f"{gw.root}/$triggers/kintone/@{SECRET}x", json={}, timeout=30)
    assert wrong.status_code == 404 and "error" in wrong.json()
    for body in ({}, {"id": "1", "type": "ADD_RECORD", "app": {"id": "x"}},
                 {"id": "1", "type": "ADD_RECORD", "app": {"id": "1"}, "record": {}}):
        response = requests.post(inbound_url(gw), json=body, timeout=30)
        assert response.status_code == 400 and "error" in response.json()
    unknown_app = {"id": "n-1", "type": "DELETE_RECORD", "app": {"id": "999999"},
                   "recordId": "1"}
    assert requests.post(inbound_url(gw), json=unknown_app, timeout=30).json() == {"Queued": 0}


def test_subscribe_checks(gw_and_app):
    gw, _app, name = gw_and_app
    for path, body, status in ((f"{name}/webhooks/added", {"callbackUrl": "ftp://x"}, 400),
                               (f"{name}/webhooks/added", {}, 400),
                               (f"{name}/webhooks/exploded", {"callbackUrl": "http://x"}, 404)):
        response = requests.post(gw.url(f"$triggers/{path}"), json=body, headers=gw.auth,
                                 timeout=30)
        assert response.status_code == status and "error" in response.json()
