"""``kintone-gateway serve`` as a real process (gunicorn) in front of the sandbox: probes,
metrics, request ids in JSON logs, and a graceful stop that lets a long export finish."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

import pytest
import requests

from gateway.sandbox import Sandbox
from gateway.sandbox.state import Faults
from tests.ops.conftest import settings_for

EXPORT_RECORDS = 2000
PASSWORD_VARIABLE = "OPS_TEST_KINTONE_PASSWORD"


@dataclass
class Served:
    process: subprocess.Popen
    service: str  # http://localhost:<port>/api.rsc/
    token: str
    log: Path  # the process's stderr
    config: Path

    def probe(self, *args: str) -> subprocess.CompletedProcess:
        """The Docker image's HEALTHCHECK command, for this server."""
        port = self.origin.rsplit(":", 1)[1]
        env = {**os.environ, "GATEWAY_SETTINGS": str(self.config), "GATEWAY_PORT": port,
               PASSWORD_VARIABLE: "admin-password"}
        return subprocess.run([sys.executable, "-m", "gateway.ops.probe", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    @property
    def origin(self) -> str:
        return self.service.removesuffix("/api.rsc/")

    def get(self, path: str, *, auth: bool = True, **kwargs) -> requests.Response:
        headers = {**({"X-Authtoken": self.token} if auth else {}), **kwargs.pop("headers", {})}
        return requests.get(self.origin + path, headers=headers, timeout=60, **kwargs)

    def log_entries(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()
                if line.startswith("{")]


@pytest.fixture(scope="module")
def export_app(server) -> int:
    body = {"name": "Ops export", "fields": {"title": {"type": "SINGLE_LINE_TEXT",
                                                       "code": "title", "label": "Title"}},
            "records": [{"title": {"value": f"row {n}"}} for n in range(EXPORT_RECORDS)]}
    response = requests.post(f"{server.url}/__sandbox/apps", json=body, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()["app"]


@pytest.fixture(scope="module")
def served(server, export_app, tmp_path_factory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    settings, token = settings_for(server.url, (export_app,))
    config = folder / "settings.cfg"
    config.write_text(_settings_file(server.url, export_app, settings.section("Security").values,
                                     settings.section("Users").values), encoding="utf-8")
    config.chmod(0o600)
    log = folder / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), "--port",
             "0"], cwd=folder, text=True, stdout=subprocess.PIPE, stderr=stderr,
            env={**os.environ, PASSWORD_VARIABLE: "admin-password", "PYTHONUNBUFFERED": "1"})
    try:
        yield Served(process, _service_line(process, log), token, log, config)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _settings_file(url: str, app: int, security: dict, users: dict) -> str:
    lines = ["[kintone]", f"Url = {url}", "User = admin", f"Password = env:{PASSWORD_VARIABLE}",
             f"Apps = {app}", "[gateway]", "PageSize = 10000", "[Server]", "Threads = 8",
             "GracefulTimeout = 60", "[Security]",
             *(f"{key} = {value}" for key, value in security.items()), "[Users]",
             *(f"{key} = {value}" for key, value in users.items())]
    return "\n".join(lines) + "\n"


def _service_line(process: subprocess.Popen, log: Path) -> str:
    lines: Queue[str] = Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()
    try:
        label, _, value = lines.get(timeout=60).strip().partition(": ")
    except Exception:
        process.kill()
        raise AssertionError(f"no service line; stderr: {log.read_text()[-2000:]}") from None
    assert label == "service", value
    return value


def test_serve_runs_under_gunicorn(served: Served):
    entries = served.log_entries()
    assert any("gunicorn" in entry.get("message", "").lower() for entry in entries), entries
    assert all(entry["level"] in ("DEBUG", "INFO", "WARNING", "ERROR") for entry in entries)


def test_readiness_follows_kintone_and_liveness_does_not(served: Served, sandbox: Sandbox):
    sandbox.faults = Faults(rate_drop=1.0)  # Kintone unreachable: every connection dropped
    try:
        unready = served.get("/readyz", auth=False)
        alive = served.get("/healthz", auth=False)
    finally:
        sandbox.faults = Faults()
    assert unready.status_code == 503, unready.text
    error = unready.json()["error"]
    assert error["code"] == "NotReady"
    assert error["details"][0]["code"] == "KintoneUnreachable"
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    ready = served.get("/readyz", auth=False)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_the_images_healthcheck_command_probes_the_server(served: Served):
    assert served.probe().returncode == 0
    assert served.probe("readyz").returncode == 0
    assert served.probe("nonsense").returncode == 2


def test_metrics_need_an_authtoken_and_count_requests(served: Served):
    assert served.get("/api.rsc/").status_code == 200
    assert served.get("/metrics", auth=False).status_code == 401
    reply = served.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    text = reply.text
    assert 'gateway_http_requests_total{method="GET",route="/api.rsc/",status="200"}' in text
    assert "gateway_http_request_duration_seconds_bucket" in text
    assert _value(text, "gateway_kintone_calls_total") >= 2  # apps.json, fields.json


def _value(exposition: str, name: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in {exposition}")


def test_request_ids_are_returned_and_logged(served: Served):
    sent = served.get("/api.rsc/", headers={"X-Request-Id": "trace-42.a"})
    assert sent.headers["X-Request-Id"] == "trace-42.a"
    made = served.get("/api.rsc/", headers={"X-Request-Id": "bad id\twith spaces"})
    assert made.headers["X-Request-Id"] not in ("", "bad id\twith spaces")
    audit = [entry for entry in served.log_entries() if entry["logger"] == "gateway.audit"]
    ours = [entry for entry in audit if entry.get("request_id") == "trace-42.a"]
    assert len(ours) == 1 and ours[0]["audit"]["status"] == 200, audit
    assert ours[0]["audit"]["user"] == "ops"
    assert served.token not in served.log.read_text()


def test_a_request_gunicorn_cannot_read_gets_an_odata_json_error(served: Served):
    """Raw UTF-8 in the request line (as curl sends it) never reaches the app under gunicorn."""
    host, port = served.origin.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall("GET /api.rsc/App?$filter=優先度%20eq%20'高' HTTP/1.1\r\nHost: x\r\n"
                     "Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"OData-Version: 4.0" in head and b"Content-Type: application/json" in head
    assert json.loads(body)["error"]["code"] == "BadRequest"


def test_sigterm_lets_a_long_export_finish(served: Served, sandbox: Sandbox, export_app):
    """Last in this module: the server stops."""
    sandbox.faults = Faults(latency_ms=250)  # each Kintone page of 500 records takes a while
    try:
        reply = served.get("/api.rsc/" + _entity_set(served), stream=True)
        assert reply.status_code == 200
        chunks = reply.iter_content(chunk_size=None)
        body = next(chunks)
        served.process.send_signal(signal.SIGTERM)
        body += b"".join(chunks)
    finally:
        sandbox.faults = Faults()
    assert len(json.loads(body)["value"]) == EXPORT_RECORDS
    assert served.process.wait(timeout=60) == 0
    with pytest.raises(requests.ConnectionError):
        served.get("/healthz", auth=False)
    assert served.probe().returncode == 1


def _entity_set(served: Served) -> str:
    (entity_set,) = [item["url"] for item in served.get("/api.rsc/").json()["value"]
                     if item.get("kind", "EntitySet") == "EntitySet" and
                     item["url"] not in ("Apps", "Comments", "Fields")]
    return entity_set

