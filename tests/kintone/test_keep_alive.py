"""Kept connections: the sandbox keeps HTTP/1.1 connections open as Kintone does, and the
client reuses a pool of them no larger than its cap, also for parallel range reads."""

from __future__ import annotations

import base64
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from gateway.kintone import KintoneClient
from gateway.kintone.paging import ranged_records
from gateway.sandbox import SandboxServer
from gateway.settings import AuthScheme, KintoneSettings, Secret
from tests.kintone.conftest import ADMIN, FAST_RETRY, FIELDS, ids, records

AUTH = base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()


class Connections:
    """WSGI middleware: the client connections (address, port) Kintone calls came on, and the
    most calls that ran at once."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.seen: set[tuple[str, str]] = set()
        self.running = self.most = 0

    def __call__(self, environ: dict, start_response: Any) -> Any:
        with self._lock:
            self.seen.add((environ["REMOTE_ADDR"], environ["REMOTE_PORT"]))
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return list(self._app(environ, start_response))
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def counted(sandbox) -> Iterator[tuple[SandboxServer, Connections]]:
    server = SandboxServer(sandbox).start()
    connections = Connections(server.app.wsgi_app)
    server.app.wsgi_app = connections  # type: ignore[method-assign]
    yield server, connections
    server.stop()


def test_the_sandbox_keeps_the_connection_open(counted):
    server, connections = counted
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"X-Cybozu-Authorization": AUTH, "Content-Type": "application/json"}
    # Its body unread by the sandbox (an unknown API): the next request must still be read.
    connection.request("POST", "/k/v1/nothing.json", body=b'{"app": 1}' * 1000,
                       headers=headers)
    first = connection.getresponse()
    assert first.status == 404 and first.read()
    assert not first.will_close and first.getheader("Connection") is None
    kept = connection.sock
    for _ in range(3):
        connection.request("GET", "/k/v1/apps.json", headers=headers)
        answer = connection.getresponse()
        assert answer.status == 200 and b'"apps"' in answer.read()
        assert connection.sock is kept
    assert len(connections.seen) == 1
    connection.request("GET", "/k/v1/apps.json", headers={**headers, "Connection": "close"})
    last = connection.getresponse()
    assert last.status == 200 and last.will_close
    connection.close()


def test_a_client_leaving_within_a_body_ends_its_connection_quietly(counted, capsys):
    server, _ = counted
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        client.sendall(b"POST /k/v1/nothing.json HTTP/1.1\r\nHost: sandbox\r\n"
                       b"Content-Length: 1000\r\n\r\n{\"app\"")
        client.shutdown(socket.SHUT_WR)
        with client.makefile("rb") as answer:
            assert answer.read().startswith(b"HTTP/1.1 404")  # read to the sandbox's close
    assert "Traceback" not in capsys.readouterr().err


def test_a_kept_connection_takes_the_next_call_at_once(counted):
    # werkzeug waits up to 10 ms after each answer for more of the request's body: on a kept
    # connection every call paid it, where Kintone answers the next call at once.
    server, _ = counted
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"X-Cybozu-Authorization": AUTH}
    took = []
    for _ in range(20):
        started = time.perf_counter()
        connection.request("GET", "/k/v1/nothing.json", headers=headers)
        assert connection.getresponse().read()
        took.append(time.perf_counter() - started)
    connection.close()
    # The fastest of the calls after the first: each waited for the one before to end its wait.
    assert min(took[1:]) < 0.005


def test_the_client_reuses_a_pool_as_large_as_its_cap(counted, extension):
    server, connections = counted
    app = extension("apps", {"name": "Kept", "fields": FIELDS,
                             "records": records(2_000)})["app"]
    settings = KintoneSettings(url=server.url, auth_scheme=AuthScheme.PASSWORD, user=ADMIN[0],
                               password=Secret(ADMIN[1]), max_concurrent_requests=3)
    with KintoneClient(settings, retry=FAST_RETRY) as client:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: client.get_records(app, "limit 1"), range(40)))
        read = [record for record, _ in ranged_records(client, app, page_size=100, parallel=3)]
    assert ids(read) == sorted(ids(read)) and len(read) == 2_000
    assert connections.most <= 3
    assert len(connections.seen) <= 3

