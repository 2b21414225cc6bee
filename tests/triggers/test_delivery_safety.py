"""Webhook deliveries that cannot be turned against the gateway: callbacks only to public
addresses (checked when subscribing and again when delivering), no environment proxy, each
attempt bounded in time and in the answer read, a slow subscriber that cannot hold every
delivery thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import pytest
import requests

from gateway.security.ipallow import AddressList
from gateway.triggers.config import TriggerSettings
from gateway.triggers.queue import DeliveryWorker
from gateway.triggers.sqlite import SqliteStore
from gateway.triggers.store import Subscription
from tests.security.narrow import users
from tests.triggers.conftest import Receiver, inbound_url
from tests.triggers.test_webhooks import hook

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
LOOPBACK = AddressList.parse(["127.0.0.1"])
FAST = {"retry_seconds": 0.05, "max_retry_seconds": 0.2, "max_attempts": 1}
REFUSED = ("http://127.0.0.1:1/", "http://169.254.169.254/latest/meta-data/iam",
           "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", "http://[::1]:22/",
           "http://[fc00::1]/", "http://[fe80::1]/", "http://224.0.0.1/", "http://0.0.0.0/",
           "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://0x7f000001/",
           "http://2130706433/", "http://127.1/", "http://0177.0.0.1/",
           "http://user:pass@127.0.0.1:2/x", "http://localhost:8080/", "https://10.1.2.3/",
           "http://[0:0:0:0:0:ffff:7f00:1]/", "http://[::1", "http://cb.example/a\r\nX: y")


@pytest.fixture()
def store() -> Iterator[SqliteStore]:
    db = SqliteStore(":memory:")
    yield db
    db.close()


@pytest.fixture()
def worker(store: SqliteStore) -> Iterator[Callable[..., DeliveryWorker]]:
    started: list[DeliveryWorker] = []

    def start(**config) -> DeliveryWorker:
        running = DeliveryWorker(store, TriggerSettings(**{**FAST, **config}))
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def queue(store: SqliteStore, callback: str, *bodies: bytes, name: str = "s1") -> None:
    store.add(Subscription(name, 7, "Orders", "ADD_RECORD", callback, "owner"))
    for n, body in enumerate(bodies):
        assert store.enqueue(f"{name}-{n}", [(name, body)], time.time())


def dead_letter(store: SqliteStore, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while not store.dead_letters(1):
        assert time.monotonic() < deadline, "no dead letter"
        time.sleep(0.02)
    return store.dead_letters(1)[0].error


def test_internal_callbacks_are_refused_when_subscribing(start_triggers, make_app):
    app, _ = make_app(FIELDS, name="Ssrf")
    gw = start_triggers([app], callbackallowedips="")
    name = "Ssrf"
    for url in REFUSED:
        response = requests.post(gw.url(f"$triggers/{name}/webhooks/added"),
                                 json={"callbackUrl": url}, headers=gw.auth, timeout=30)
        assert response.status_code == 400, (url, response.text)
        assert response.json()["error"]["message"].startswith("callbackUrl is refused"), url


def test_a_callback_is_checked_again_when_delivering(store, worker):
    receiver = Receiver()  # subscribed while loopback was allowed, then the setting changed
    try:
        queue(store, receiver.url, b'{"n": 1}')
        worker()
        assert "the callback is refused" in dead_letter(store)
        assert "127.0.0.1" in store.dead_letters(1)[0].error
        assert receiver.received == []
    finally:
        receiver.down()


def test_no_proxy_from_the_environment(store, worker, monkeypatch):
    receiver, proxy = Receiver(), Receiver()
    try:
        for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        queue(store, receiver.url, b'{"n": 1}')
        worker(callback_allowed=LOOPBACK)
        assert receiver.wait_for(1) == [{"n": 1}]
        assert proxy.received == []
    finally:
        receiver.down()
        proxy.down()


@dataclass
class RawServer:
    """A callback answering with ``answer(connection)``; counts the bytes it managed to send."""

    answer: Callable[[socket.socket, RawServer], None]
    sent: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    sock: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/cb?sig=s"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            with contextlib.suppress(OSError):  # the gateway hung up
                self.answer(conn, self)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def trickle(conn: socket.socket, server: RawServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not server.stop.is_set():
        conn.sendall(b"X")  # one byte of a header every 0.2 s, forever
        time.sleep(0.2)


def huge(conn: socket.socket, server: RawServer) -> None:
    size = 50 * 2**20
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
    chunk = b"0" * 65536
    while server.sent < size:
        server.sent += conn.send(chunk)


def test_an_attempt_has_one_deadline(store, worker):
    server = RawServer(trickle)
    try:
        queue(store, server.url, b"{}")
        started = time.monotonic()
        worker(delivery_timeout=1, callback_allowed=LOOPBACK)
        assert "could not be reached" in dead_letter(store)
        assert time.monotonic() - started < 3
    finally:
        server.close()


def test_an_answer_is_read_only_so_far(store, worker):
    server = RawServer(huge)
    try:
        queue(store, server.url, b"{}")
        worker(callback_allowed=LOOPBACK, max_answer_bytes=65536)
        deadline = time.monotonic() + 10
        while store.depth() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.depth() == 0 and store.dead_letters(1) == []  # delivered
        time.sleep(0.2)
        assert server.sent < 10 * 2**20  # socket buffers, not the 50 MB
    finally:
        server.close()


def test_a_slow_subscriber_cannot_hold_every_thread(store, worker):
    slow, fast = RawServer(trickle), Receiver()
    try:
        queue(store, slow.url, *[b"{}"] * 4, name="slow")
        worker(workers=2, delivery_timeout=3, callback_allowed=LOOPBACK, max_attempts=5)
        time.sleep(0.3)  # the slow one's attempts have started
        queue(store, fast.url, b'{"n": 1}', name="fast")
        started = time.monotonic()
        assert fast.wait_for(1, timeout=10) == [{"n": 1}]
        assert time.monotonic() - started < 1.5
    finally:
        slow.close()
        fast.down()


def test_deliveries_follow_their_owners_rights(start_triggers, make_app, extension, admin,
                                               tmp_path):
    app, _ = make_app(FIELDS, name="Owned")
    owners = ("keeper", "gone", "lowered", "lapsed")
    # Subscribing is a POST: the guard lets only users with a POST right somewhere send one.
    sections, headers = users(dict.fromkeys(owners, "GET:Owned POST:Elsewhere"))
    lines = dict(sections.pop("users").values)
    people = tmp_path / "users.cfg"
    people.write_text("[Users]\n" + "".join(f"{n} = {lines[n]}\n" for n in owners))
    people.chmod(0o600)
    security = sections["security"]
    sections["security"] = replace(security, values={**security.values,
                                                     "usersfile": str(people)})
    gw = start_triggers([app], sections=sections)
    hook(extension, app, gw)
    receivers = {name: Receiver() for name in owners}
    try:
        made = {name: subscribe(gw, "Owned", "added", receivers[name].url, headers[name])
                for name in owners}
        comments = requests.post(gw.url("$triggers/Owned/webhooks/commented"), timeout=30,
                                 json={"callbackUrl": receivers["keeper"].url},
                                 headers=headers["keeper"])  # no GET on Comments
        assert "GET on Comments" in comments.json()["error"]["message"]
        mine = requests.get(gw.url("$triggers/webhooks"), headers=headers["keeper"], timeout=30)
        assert [s["Owner"] for s in mine.json()["value"]] == ["keeper"]
        every = requests.get(gw.url("$triggers/webhooks"), headers=gw.auth, timeout=30)
        assert sorted(s["Owner"] for s in every.json()["value"]) == sorted(owners)
        assert all("sig" not in s["Callback"] for s in every.json()["value"])
        theirs = gw.url(f"$triggers/webhooks/{made['gone']}")
        assert requests.get(theirs, headers=headers["keeper"], timeout=30).status_code == 404
        assert requests.get(theirs, headers=gw.auth, timeout=30).json()["Owner"] == "gone"

        people.write_text("[Users]\n"  # gone removed, lowered to another set, lapsed expired
                          f"keeper = {lines['keeper']}\n"
                          f"lowered = {lines['lowered'].replace('GET:Owned', 'GET:Other')}\n"
                          f"lapsed = {lines['lapsed']}; expires=2001-01-01\n")
        admin.ok("POST", "record", {"app": app, "record": {"title": {"value": "secret"}}})
        assert receivers["keeper"].wait_for(1)[0]["Record"]["title"] == "secret"
        deadline = time.monotonic() + 10
        while True:
            letters = requests.get(gw.url("$triggers/deadletters"), headers=gw.auth,
                                   timeout=30).json()["value"]
            if len(letters) == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert sorted(letter["SubscriptionId"] for letter in letters) == sorted(
            made[name] for name in ("gone", "lowered", "lapsed"))
        assert all(letter["Error"].startswith("suspended: ") for letter in letters)
        assert all(receivers[name].received == [] for name in ("gone", "lowered", "lapsed"))
        assert requests.delete(theirs, headers=gw.auth, timeout=30).status_code == 204
    finally:
        for receiver in receivers.values():
            receiver.down()


def subscribe(gw, entity_set: str, event: str, callback: str, who: dict) -> str:
    response = requests.post(gw.url(f"$triggers/{entity_set}/webhooks/{event}"),
                             json={"callbackUrl": callback}, headers=who, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["Id"]


def test_json_bodies_nested_too_deep(start_triggers, make_app):
    app, _ = make_app(FIELDS, name="DeepHooks")
    gw = start_triggers([app])
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    for url, headers in ((gw.url("$triggers/DeepHooks/webhooks/added"), gw.auth),
                         (inbound_url(gw), {})):
        response = requests.post(url, data=deep, timeout=60,
                                 headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 400, (url, response.text)
        assert "nested more than" in response.json()["error"]["message"]
