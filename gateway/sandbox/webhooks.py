"""Webhooks: payloads built inside the request's transaction, POSTed in the background after it.

Endpoints queue events on ``ctx.events`` (``record_event``, ``delete_event``, ``comment_event``);
web.py calls ``deliver`` once the transaction has committed, so rolled-back writes notify no one.
Delivery follows real Kintone: one POST per subscribed enabled webhook, JSON body, no signature,
5-second timeout, no retry, payloads over 1 MB fail, at most 60 notifications a minute per domain
(by the sandbox clock, so a pinned clock makes that minute last; the rest are dropped). Every
attempt, sent or not, goes to an in-memory delivery log that the extension API exposes. Webhooks
are registered through the extension API (Kintone's UI setting); unlike real Kintone, plain
``http://`` URLs are accepted so tests can listen on localhost.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import requests

from .apps import App, load_space
from .clock import iso_second
from .context import Ctx
from .values import typed_record

if TYPE_CHECKING:
    from .state import Sandbox

EVENT_TYPES = ("ADD_RECORD", "UPDATE_RECORD", "DELETE_RECORD", "UPDATE_STATUS",
               "ADD_RECORD_COMMENT")
MAX_PER_APP = 10
MAX_PER_MINUTE = 60
MAX_PAYLOAD_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 5
LOG_SIZE = 1000


# --- registration -------------------------------------------------------------------------------

@dataclass
class Webhook:
    id: int
    app: int
    url: str
    events: list[str]
    enabled: bool = True
    description: str = ""

    def data(self) -> dict:
        return {"url": self.url, "events": self.events, "enabled": self.enabled,
                "description": self.description}


def add_webhook(conn: sqlite3.Connection, app_id: int, url: str, events: list[str],
                enabled: bool = True, description: str = "") -> Webhook:
    """Store a webhook; ValueError when the settings are ones Kintone's UI would refuse."""
    if not url.startswith(("https://", "http://")) or len(url) > 1024:
        raise ValueError("url must be an http(s) URL of at most 1024 characters")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if not events or unknown:
        raise ValueError(f"events must be a non-empty list of {', '.join(EVENT_TYPES)}")
    if len(app_webhooks(conn, app_id)) >= MAX_PER_APP:
        raise ValueError(f"an app can have at most {MAX_PER_APP} webhooks")
    hook = Webhook(0, app_id, url, list(events), enabled, description)
    cur = conn.execute("INSERT INTO webhooks (app, data) VALUES (?, ?)",
                       (app_id, json.dumps(hook.data())))
    hook.id = int(cur.lastrowid)
    return hook


def app_webhooks(conn: sqlite3.Connection, app_id: int) -> list[Webhook]:
    rows = conn.execute("SELECT id, data FROM webhooks WHERE app = ? ORDER BY id",
                        (app_id,)).fetchall()
    return [Webhook(r["id"], app_id, **json.loads(r["data"])) for r in rows]


# --- payloads -----------------------------------------------------------------------------------

def _app_ref(app: App) -> dict:
    return {"id": str(app.id), "name": app.name}


def record_event(ctx: Ctx, app: App, event_type: str, rec_id: int, revision: int,
                 data: dict) -> dict:
    """ADD_RECORD / UPDATE_RECORD / UPDATE_STATUS: the whole record as GET record.json shows it."""
    record = typed_record(app, rec_id, revision, data)
    return {
        "type": event_type,
        "app": _app_ref(app),
        "record": record,
        "recordTitle": record_title(app, record),
        "url": record_url(ctx, app, rec_id),
    }


def delete_event(ctx: Ctx, app: App, rec_id: int) -> dict:
    return {
        "type": "DELETE_RECORD",
        "app": _app_ref(app),
        "recordId": str(rec_id),
        "deletedBy": ctx.caller.entity,
        "deletedAt": iso_second(ctx.now()),
    }


def comment_event(ctx: Ctx, app: App, rec_id: int, comment: dict) -> dict:
    """``comment`` has the shape of one element of GET record/comments.json."""
    return {
        "type": "ADD_RECORD_COMMENT",
        "app": _app_ref(app),
        "recordId": str(rec_id),
        "comment": comment,
        "url": f"{record_url(ctx, app, rec_id)}&comment={comment['id']}",
    }


def record_url(ctx: Ctx, app: App, rec_id: int) -> str:
    space = load_space(ctx.db.conn, app.space_id)
    prefix = f"/k/guest/{app.space_id}" if space and space.get("isGuest") else "/k"
    return f"{ctx.base_url}{prefix}/{app.id}/show#record={rec_id}"


def record_title(app: App, record: dict) -> str:
    code = _title_code(app)
    return _display(record.get(code, {}).get("value")) if code else ""


def _title_code(app: App) -> str | None:
    """The title field: the one chosen in MANUAL mode, else the first text field of the form."""
    setting = app.app_settings.get("titleField") or {}
    if setting.get("selectionMode") == "MANUAL" and setting.get("code"):
        return setting["code"]
    codes = list(_layout_codes(app.settings.get("layout") or [])) or list(app.form.properties)
    for code in codes:
        fd = app.form.get(code)
        if fd is not None and fd.table is None and fd.type == "SINGLE_LINE_TEXT":
            return code
    return None


def _layout_codes(layout: list[dict]) -> Iterator[str]:
    for item in layout:
        if item.get("type") == "GROUP":
            yield from _layout_codes(item.get("layout") or [])
        elif item.get("type") == "ROW":
            yield from (f["code"] for f in item.get("fields", []) if f.get("code"))


def _display(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # CREATOR / MODIFIER
        return str(value.get("name", ""))
    if isinstance(value, list):
        return ", ".join(_display(v) for v in value)
    return str(value)


# --- delivery -----------------------------------------------------------------------------------

@dataclass
class Delivery:
    """One notification attempt, as the delivery log shows it."""

    webhook: int
    url: str
    type: str
    payload: dict
    time: str
    status: int | None = None
    error: str | None = None


@dataclass
class DeliveryLog:
    """The domain's delivery log and its 60-a-minute window (by the sandbox clock)."""

    entries: deque = field(default_factory=lambda: deque(maxlen=LOG_SIZE))
    _sent: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, now: datetime) -> bool:
        with self._lock:
            window_start = now - timedelta(minutes=1)
            self._sent = deque(t for t in self._sent if window_start < t <= now)
            if len(self._sent) >= MAX_PER_MINUTE:
                return False
            self._sent.append(now)
            return True

    def add(self, delivery: Delivery) -> None:
        with self._lock:
            self.entries.append(delivery)

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [asdict(d) for d in self.entries]

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()


def delivery_log(sandbox: Sandbox) -> DeliveryLog:
    return sandbox.registry("webhook_deliveries", lambda _sandbox: DeliveryLog())


def deliver(sandbox: Sandbox, events: list[dict]) -> None:
    """Send the events of a committed request to their subscribers, in a background thread."""
    with sandbox.db.lock:
        jobs = [(hook, {"id": str(uuid.uuid4()), **event})
                for event in events for hook in _subscribers(sandbox.db.conn, event)]
    if jobs:
        threading.Thread(target=_send_all, args=(sandbox, jobs), daemon=True).start()


def _subscribers(conn: sqlite3.Connection, event: dict) -> list[Webhook]:
    return [hook for hook in app_webhooks(conn, int(event["app"]["id"]))
            if hook.enabled and event["type"] in hook.events]


def _send_all(sandbox: Sandbox, jobs: list[tuple[Webhook, dict]]) -> None:
    log = delivery_log(sandbox)
    for hook, payload in jobs:
        log.add(_send(log, sandbox.clock.now(), hook, payload))


def _send(log: DeliveryLog, now: datetime, hook: Webhook, payload: dict) -> Delivery:
    delivery = Delivery(hook.id, hook.url, payload["type"], payload, iso_second(now))
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if len(body) > MAX_PAYLOAD_BYTES:
        delivery.error = "payload exceeds 1 MB"
    elif not log.admit(now):
        delivery.error = f"not sent: more than {MAX_PER_MINUTE} notifications a minute"
    else:
        try:
            response = requests.post(hook.url, data=body, timeout=TIMEOUT_SECONDS,
                                     headers={"Content-Type": "application/json"})
            delivery.status = response.status_code
        except requests.RequestException as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
    return delivery
