"""Slow clients (issue 13 B8) against ``kintone-gateway serve`` (gunicorn): connections sending
their request a line every second hold no thread, and are closed at [Server] HeaderTimeout."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

import pytest
import requests

from gateway.sandbox import Sandbox
from gateway.sandbox.state import Faults
from tests.ops.conftest import settings_for

THREADS = 2
HEADER_TIMEOUT = 4
BODY_TIMEOUT = 2
PASSWORD_VARIABLE = "SLOW_TEST_KINTONE_PASSWORD"


@dataclass
class Served:
    host: str
    port: int
    token: str
    log: Path  # the server's stderr: JSON lines, the audit log's among them

    def audit(self, path_part: str) -> list[dict]:
        lines = [json.loads(line) for line in self.log.read_text().splitlines()
                 if line.startswith("{")]
        return [line["audit"] for line in lines if line.get("logger") == "gateway.audit"
                and path_part in line["audit"]["path"]]

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture(scope="module")
def served(server, ops_app, many, tmp_path_factory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("slow")
    settings, token = settings_for(server.url, (ops_app, many))
    lines = ["[kintone]", f"Url = {server.url}", "User = admin",
             f"Password = env:{PASSWORD_VARIABLE}", f"Apps = {ops_app}, {many}",
             # No budget of calls per page: only the client leaving stops a scan.
             "[gateway]", "CallsPerPage = 10000", "MaxCallsPerRequest = 100000",
             "[Server]", f"Threads = {THREADS}", f"HeaderTimeout = {HEADER_TIMEOUT}",
             f"BodyTimeout = {BODY_TIMEOUT}", "KeepAlive = 3", "[Security]",
             *(f"{k} = {v}" for k, v in settings.section("Security").values.items()), "[Users]",
             *(f"{k} = {v}" for k, v in settings.section("Users").values.items())]
    config = folder / "settings.cfg"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config.chmod(0o600)
    log = folder / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), "--port",
             "0"], cwd=folder, text=True, stdout=subprocess.PIPE, stderr=stderr,
            env={**os.environ, PASSWORD_VARIABLE: "admin-password", "PYTHONUNBUFFERED": "1"})
    found: Queue[str] = Queue()
    threading.Thread(target=lambda: [found.put(line) for line in process.stdout],
                     daemon=True).start()
    try:
        service = found.get(timeout=60).strip().partition(": ")[2]
        port = int(service.split(":")[2].split("/")[0])
        yield Served("127.0.0.1", port, token, log)
    finally:
        process.kill()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def many(server) -> int:
    """An app of 400 records without comments: Comments reads them one call each."""
    body = {"name": "Many", "fields": {}, "records": [{}] * 400}
    response = requests.post(f"{server.url}/__sandbox/apps", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["app"]


def _slowloris(served: Served, stop: threading.Event, closed: list[float]) -> None:
    """A request line, then a header line a second, never the end of the head."""
    with socket.create_connection((served.host, served.port)) as connection:
        connection.sendall(b"GET /api.rsc/ HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        for n in range(HEADER_TIMEOUT * 3):
            if stop.wait(1):
                return
            try:
                connection.sendall(f"X-Slow-{n}: {n}\r\n".encode())
                connection.settimeout(0.01)
                if connection.recv(1) == b"":
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        closed.append(time.monotonic() - started)


def test_slow_clients_hold_no_thread_and_are_closed_at_the_header_timeout(served: Served):
    stop = threading.Event()
    closed: list[float] = []
    slow = [threading.Thread(target=_slowloris, args=(served, stop, closed), daemon=True)
            for _ in range(2 * THREADS)]
    for thread in slow:
        thread.start()
    try:
        time.sleep(1.5)  # every slow client sent a few lines: on gthread, every thread is held
        for _ in range(3):
            started = time.monotonic()
            answer = requests.get(f"{served.origin}/api.rsc/",
                                  headers={"X-Authtoken": served.token}, timeout=10)
            assert answer.status_code == 200
            assert time.monotonic() - started < 1
        for thread in slow:
            thread.join(timeout=HEADER_TIMEOUT + 6)
    finally:
        stop.set()
    assert len(closed) == 2 * THREADS
    assert all(HEADER_TIMEOUT - 1 < seconds < HEADER_TIMEOUT + 4 for seconds in closed), closed


def test_a_body_slower_than_the_body_timeout_is_refused(served: Served):
    with socket.create_connection((served.host, served.port)) as connection:
        connection.sendall(f"POST /api.rsc/$batch HTTP/1.1\r\nHost: x\r\nX-Authtoken: "
                           f"{served.token}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: 100\r\n\r\n{{".encode())
        connection.settimeout(BODY_TIMEOUT + 5)
        started = time.monotonic()
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert time.monotonic() - started < BODY_TIMEOUT + 2


def test_under_gunicorn_a_client_that_leaves_stops_the_kintone_calls(served: Served, many,
                                                                      sandbox: Sandbox):
    """Comments of 400 records cost 400 calls; the client leaves after a second of them."""
    sandbox.faults = Faults(latency_ms=20)
    try:
        with socket.create_connection((served.host, served.port)) as connection:
            connection.sendall(f"GET /api.rsc/Comments?$filter=AppId%20eq%20{many} HTTP/1.1\r\n"
                               f"Host: x\r\nX-Authtoken: {served.token}\r\n\r\n".encode())
            time.sleep(1)
        deadline = time.monotonic() + 30
        while not served.audit("Comments"):
            assert time.monotonic() < deadline, "the request never ended"
            time.sleep(0.1)
    finally:
        sandbox.faults = Faults()
    (entry,) = served.audit("Comments")
    assert 0 < entry["kintone_calls"] < 100, entry  # a second's worth, not 400
