"""Webhook notifications, received by a tiny HTTP server on a free localhost port.

The 60-a-minute limit and the delivery log belong to the whole domain, so this module runs its
own sandbox.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.config import SandboxFile, UserSpec, apply_config
from tests.conftest import ADMIN, USER
from tests.kintone_http import Kintone

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ALL_EVENTS = ["ADD_RECORD", "UPDATE_RECORD", "DELETE_RECORD", "UPDATE_STATUS",
              "ADD_RECORD_COMMENT"]
FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "n": {"type": "NUMBER", "code": "n", "label": "N"},
    "notes": {"type": "MULTI_LINE_TEXT", "code": "notes", "label": "Notes"},
}
PROCESS = {
    "enable": True,
    "states": {
        "Open": {"name": "Open", "index": "0", "assignee": {"type": "ONE", "entities": []}},
        "Done": {"name": "Done", "index": "1", "assignee": {"type": "ONE", "entities": []}},
    },
    "actions": [{"name": "Finish", "from": "Open", "to": "Done", "filterCond": ""}],
}


class Receiver:
    """Records every notification POSTed to it as ``(path, headers, body)``."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[str, dict, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append((self.path, dict(self.headers), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def wait(self, count: int, timeout: float = 10) -> list[dict]:
        """The first ``count`` bodies; then a short pause shows that nothing more arrives."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        return [body for _, _, body in self.received]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def server():
    sandbox = Sandbox()
    apply_config(sandbox, SandboxFile(users=[UserSpec(*ADMIN, "Admin"),
                                             UserSpec(*USER, "Alice Ito", admin=False)]))
    srv = SandboxServer(sandbox).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server) -> Kintone:
    return Kintone.with_password(server.url, *ADMIN)


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.stop()


def extension(server, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{server.url}/__sandbox{path}", json=body, timeout=10)


def hook(server, app: int, url: str, events: list[str], **extra) -> dict:
    response = extension(server, "POST", f"/apps/{app}/webhooks",
                         {"url": url, "events": events, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def log_of(server, app: int, count: int, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        entries = [d for d in extension(server, "GET", "/webhooks/deliveries").json()["deliveries"]
                   if d["payload"]["app"]["id"] == str(app)]
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.02)


def add(admin: Kintone, app: int, title: str) -> str:
    return admin.ok("POST", "record", {"app": app, "record": {"title": {"value": title}}})["id"]


def test_added_and_updated_records_are_sent_whole(server, admin, receiver):
    app = admin.make_app(FIELDS, name="Quotes")
    hook(server, app, receiver.url(), ["ADD_RECORD", "UPDATE_RECORD"])
    rec_id = add(admin, app, "Widget")
    admin.ok("PUT", "record", {"app": app, "id": rec_id, "record": {"n": {"value": "3"}}})
    added, updated = receiver.wait(2)
    record = admin.ok("GET", "record", params={"app": app, "id": rec_id})["record"]
    assert UUID.fullmatch(added["id"]) and UUID.fullmatch(updated["id"])
    assert added["id"] != updated["id"]
    assert added["type"] == "ADD_RECORD" and updated["type"] == "UPDATE_RECORD"
    assert added["app"] == {"id": str(app), "name": "Quotes"}
    assert updated["record"] == record
    assert added["record"]["$revision"]["value"] == "1"
    assert added["recordTitle"] == updated["recordTitle"] == "Widget"
    assert added["url"] == f"{server.url}/k/{app}/show#record={rec_id}"
    assert set(added) == {"id", "type", "app", "record", "recordTitle", "url"}
    assert receiver.received[0][1]["Content-Type"] == "application/json"


def test_the_record_title_follows_the_title_field_setting(server, admin, receiver):
    seeded = extension(server, "POST", "/apps", {
        "name": "Titled", "fields": FIELDS,
        "settings": {"titleField": {"selectionMode": "MANUAL", "code": "n"}}}).json()
    hook(server, seeded["app"], receiver.url(), ["ADD_RECORD"])
    admin.ok("POST", "record", {"app": seeded["app"], "record": {
        "title": {"value": "not me"}, "n": {"value": "42"}}})
    assert receiver.wait(1)[0]["recordTitle"] == "42"


def test_guest_space_records_link_through_the_guest_path(server, receiver):
    space = extension(server, "POST", "/spaces", {"name": "Guests", "isGuest": True,
                                                  "members": ["admin"]}).json()["id"]
    app = extension(server, "POST", "/apps", {"name": "Guest app", "space": space,
                                              "fields": FIELDS}).json()["app"]
    hook(server, app, receiver.url(), ["ADD_RECORD"])
    guest = Kintone.with_password(server.url, *ADMIN, guest_space=space)
    rec_id = guest.ok("POST", "record", {"app": app, "record": {"title": {"value": "g"}}})["id"]
    (event,) = receiver.wait(1)
    assert event["url"] == f"{server.url}/k/guest/{space}/{app}/show#record={rec_id}"


def test_multi_record_apis_notify_no_one(server, admin, receiver):
    app = admin.make_app(FIELDS)
    hook(server, app, receiver.url(), ALL_EVENTS)
    admin.ok("POST", "records", {"app": app, "records": [{"title": {"value": "a"}}] * 3})
    admin.ok("PUT", "records", {"app": app, "records": [{"id": 1, "record": {}}]})
    admin.ok("DELETE", "records", {"app": app, "ids": [2]})
    add(admin, app, "single")
    assert [b["type"] for b in receiver.wait(1)] == ["ADD_RECORD"]


def test_ui_deletion_is_the_only_delete_record_event(server, admin, receiver):
    app = admin.make_app(FIELDS)
    hook(server, app, receiver.url(), ["DELETE_RECORD"])
    rec_id = add(admin, app, "bye")
    response = extension(server, "POST", f"/apps/{app}/records/{rec_id}/ui-delete",
                         {"user": "alice"})
    assert response.status_code == 200
    (deleted,) = receiver.wait(1)
    assert set(deleted) == {"id", "type", "app", "recordId", "deletedBy", "deletedAt"}
    assert deleted["type"] == "DELETE_RECORD" and deleted["recordId"] == rec_id
    assert deleted["deletedBy"] == {"code": "alice", "name": "Alice Ito"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", deleted["deletedAt"])
    assert admin.get("record", {"app": app, "id": rec_id}).status_code == 404
    missing = extension(server, "POST", f"/apps/{app}/records/{rec_id}/ui-delete")
    assert missing.status_code == 404 and missing.json()["code"] == "GAIA_RE01"


def test_a_comment_notifies_with_the_comment(server, admin, receiver):
    app = admin.make_app(FIELDS)
    hook(server, app, receiver.url(), ["ADD_RECORD_COMMENT"])
    rec_id = add(admin, app, "discussed")
    comment_id = admin.ok("POST", "record/comment", {
        "app": app, "record": rec_id, "comment": {"text": "Please review."}})["id"]
    (event,) = receiver.wait(1)
    assert event["type"] == "ADD_RECORD_COMMENT" and event["recordId"] == rec_id
    listed = admin.ok("GET", "record/comments", params={"app": app, "record": rec_id})
    assert event["comment"] == listed["comments"][0]
    assert event["comment"]["id"] == comment_id
    assert event["url"] == f"{server.url}/k/{app}/show#record={rec_id}&comment={comment_id}"


def test_a_status_action_notifies_update_status(server, admin, receiver):
    app = admin.make_app(FIELDS, process=PROCESS)
    hook(server, app, receiver.url(), ["UPDATE_STATUS"])
    rec_id = add(admin, app, "flow")
    admin.ok("PUT", "record/status", {"app": app, "id": rec_id, "action": "Finish"})
    (event,) = receiver.wait(1)
    assert event["type"] == "UPDATE_STATUS"
    assert event["record"]["Status"]["value"] == "Done"
    assert event["record"]["$revision"]["value"] == "3"
    assert set(event) == {"id", "type", "app", "record", "recordTitle", "url"}


def test_bulk_requests_notify_for_single_record_sub_requests_once_committed(server, admin,
                                                                           receiver):
    app = admin.make_app(FIELDS)
    hook(server, app, receiver.url(), ALL_EVENTS)
    api = "/k/v1/record.json"
    failing = admin.post("bulkRequest", {"requests": [
        {"method": "POST", "api": api, "payload": {"app": app, "record": {}}},
        {"method": "PUT", "api": api, "payload": {"app": app, "id": 1, "revision": 5,
                                                  "record": {}}},
    ]})
    assert failing.status_code == 409
    admin.ok("POST", "bulkRequest", {"requests": [
        {"method": "POST", "api": "/k/v1/records.json",
         "payload": {"app": app, "records": [{"title": {"value": "many"}}]}},
        {"method": "POST", "api": api, "payload": {"app": app, "record": {}}},
        {"method": "PUT", "api": api, "payload": {"app": app, "id": 1, "record": {}}},
    ]})
    events = receiver.wait(2)
    assert [(e["type"], e["record"]["$id"]["value"]) for e in events] == [
        ("ADD_RECORD", "2"), ("UPDATE_RECORD", "1")]


def test_disabled_and_unsubscribed_webhooks_stay_silent(server, admin, receiver):
    app = admin.make_app(FIELDS)
    hook(server, app, receiver.url("/off"), ALL_EVENTS, enabled=False)
    hook(server, app, receiver.url("/updates"), ["UPDATE_RECORD"])
    rec_id = add(admin, app, "x")
    admin.ok("PUT", "record", {"app": app, "id": rec_id, "record": {}})
    receiver.wait(1)
    assert [(path, body["type"]) for path, _, body in receiver.received] == [
        ("/updates", "UPDATE_RECORD")]


def test_the_delivery_log_keeps_statuses_and_failures(server, admin):
    failing = Receiver(status=500)
    closed = Receiver()
    closed.stop()  # nothing listens on its port any more
    try:
        app = admin.make_app(FIELDS)
        hook(server, app, failing.url(), ["ADD_RECORD"])
        hook(server, app, closed.url(), ["ADD_RECORD"])
        add(admin, app, "logged")
        entries = log_of(server, app, 2)
    finally:
        failing.stop()
    by_url = {e["url"]: e for e in entries}
    assert by_url[failing.url()]["status"] == 500 and by_url[failing.url()]["error"] is None
    assert by_url[closed.url()]["status"] is None and by_url[closed.url()]["error"]
    assert all(e["type"] == "ADD_RECORD" and e["time"].endswith("Z") for e in entries)
    assert extension(server, "DELETE", "/webhooks/deliveries").status_code == 200
    assert log_of(server, app, 0) == []


def test_payloads_over_one_megabyte_are_not_sent(server, admin, receiver):
    app = admin.make_app(FIELDS)
    hook(server, app, receiver.url(), ["ADD_RECORD"])
    admin.ok("POST", "record", {"app": app, "record": {"notes": {"value": "x" * 1_100_000}}})
    (entry,) = log_of(server, app, 1)
    assert entry["status"] is None and "1 MB" in entry["error"]
    assert receiver.received == []


def test_at_most_sixty_notifications_a_minute_per_domain(server, admin, receiver):
    app = admin.make_app(FIELDS)
    for i in range(10):
        hook(server, app, receiver.url(f"/{i}"), ["ADD_RECORD"])
    eleventh = extension(server, "POST", f"/apps/{app}/webhooks",
                         {"url": receiver.url(), "events": ["ADD_RECORD"]})
    assert eleventh.status_code == 400
    start = datetime(2030, 1, 1, tzinfo=UTC)  # a fresh one-minute window
    extension(server, "PUT", "/clock", {"now": start.isoformat(), "offset_seconds": 0})
    try:
        for i in range(7):
            add(admin, app, f"burst {i}")
        entries = log_of(server, app, 70)
        assert len(receiver.wait(60)) == 60
        assert sum(e["status"] == 200 for e in entries) == 60
        assert sum(e["status"] is None and "60" in e["error"] for e in entries) == 10
        extension(server, "PUT", "/clock", {"offset_seconds": 61})
        add(admin, app, "a minute later")
        assert len(receiver.wait(70)) == 70
    finally:
        extension(server, "PUT", "/clock", {"now": None, "offset_seconds": 0})


@pytest.mark.parametrize(
    "body",
    [{"url": "ftp://example.com/x", "events": ["ADD_RECORD"]},
     {"url": "https://example.com/x", "events": ["ADD_RECORDS"]},
     {"url": "https://example.com/x", "events": []},
     {"url": "https://example.com/x"}],
)
def test_webhook_settings_are_validated(server, admin, body):
    app = admin.make_app(FIELDS)
    assert extension(server, "POST", f"/apps/{app}/webhooks", body).status_code == 400


def test_webhooks_are_listed_per_app_and_need_an_existing_app(server, admin, receiver):
    app = admin.make_app(FIELDS)
    created = hook(server, app, receiver.url(), ["ADD_RECORD"], description="CRM")
    listed = extension(server, "GET", f"/apps/{app}/webhooks").json()["webhooks"]
    assert listed == [created]
    assert created["description"] == "CRM" and created["enabled"] is True
    missing = extension(server, "POST", "/apps/99999/webhooks",
                        {"url": receiver.url(), "events": ["ADD_RECORD"]})
    assert missing.status_code == 404
