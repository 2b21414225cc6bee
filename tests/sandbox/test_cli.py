"""The ``kintone-gateway`` command, run as a real process on a free port."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue

import pytest
import requests

from gateway.cli import main
from tests.kintone_http import Kintone, error_of
from tests.triggers.conftest import Receiver

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60
SEEDED_LINES = 5  # sandbox, user, and one api-token line per demo app
DEMO_LINES = SEEDED_LINES + 4  # and the gateway's service, console, authtoken and swagger lines


@contextlib.contextmanager
def running(*args: str, count: int = 1, cwd: Path = ROOT) -> Iterator[dict[str, list[str]]]:
    """Run the CLI until it has printed ``count`` startup lines; yield them by label.

    ``{"sandbox": [URL], "user": ["demo pw"], "api-token": ["1 abc", ...]}``
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", *args], cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield read_startup(proc, count)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err  # SIGTERM stops the server cleanly


def read_startup(proc: subprocess.Popen, count: int) -> dict[str, list[str]]:
    # A reader thread, because select() cannot see lines already in the pipe's read buffer.
    queue: Queue[str] = Queue()
    threading.Thread(target=lambda: [queue.put(line) for line in proc.stdout], daemon=True).start()
    lines: dict[str, list[str]] = {}
    deadline = time.monotonic() + STARTUP_SECONDS
    for _ in range(count):
        try:
            line = queue.get(timeout=max(0.0, deadline - time.monotonic()))
        except Empty:
            proc.kill()
            raise AssertionError(f"startup lines {lines}, then: {proc.communicate()[1]}") from None
        label, _, value = line.rstrip("\n").partition(": ")
        lines.setdefault(label, []).append(value)
    return lines


def tokens_of(lines: dict[str, list[str]]) -> dict[int, str]:
    return {int(app): token for app, token in (v.split() for v in lines["api-token"])}


def total(client: Kintone, app: int) -> int:
    found = client.ok("GET", "records", params={"app": app, "query": "limit 1",
                                                "totalCount": "true"})
    return int(found["totalCount"])


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["sandbox", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--data", "--seed", "--config", "--users", "--timezone",
                   "--language", "--log-requests"):
        assert option in text


def test_sandbox_serves_the_users_of_a_users_file(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("# login password name\nken ken-secret Ken Tanaka\n", encoding="utf-8")
    with running("sandbox", "--port", "0", "--users", str(users), "--timezone", "Asia/Tokyo",
                 "--language", "ja") as lines:
        (url,) = lines["sandbox"]
        assert url.startswith("http://localhost:")
        response = Kintone.with_password(url, "ken", "ken-secret").get("records", {"app": 1})
        assert error_of(response) == (404, "GAIA_AP01")  # signed in; there is no app yet
        assert "指定したアプリ" in response.json()["message"]  # --language ja
        response = Kintone.with_password(url, "ken", "wrong").get("records", {"app": 1})
        assert error_of(response) == (401, "CB_WA01")


def test_demo_prints_credentials_that_work():
    with running("demo", "--port", "0", count=DEMO_LINES) as lines:
        (url,) = lines["sandbox"]
        login, password = lines["user"][0].split()
        app, token = next(iter(tokens_of(lines).items()))
        assert total(Kintone.with_tokens(url, token), app) > 0
        assert total(Kintone.with_password(url, login, password), app) > 0


def test_demo_serves_the_gateway_in_front_of_the_sandbox():
    with running("demo", "--port", "0", count=DEMO_LINES) as lines:
        (service,) = lines["service"]
        assert service.endswith("/api.rsc/")
        user, token = lines["authtoken"][0].split()
        assert requests.get(service, timeout=30).status_code == 401
        auth = (user, token)  # Basic user:authtoken, as Power BI sends it
        sets = requests.get(service, auth=auth, timeout=30).json()["value"]
        assert {"Apps", "Comments", "Fields", "CUSTOMERS"} <= {s["name"] for s in sets}
        apps = requests.get(f"{service}Apps", params={"$select": "Id"}, auth=auth,
                            timeout=30).json()
        assert sorted(a["Id"] for a in apps["value"]) == sorted(tokens_of(lines))
        (console,) = lines["console"]  # the demo user is an admin of the console
        page = requests.post(f"{console}login", data={"authtoken": token}, timeout=30)
        assert page.status_code == 200 and "<h1>Status</h1>" in page.text
        # Power Automate's designer fetches the swagger: URL anonymously, from its own origin.
        (swagger,) = lines["swagger"]
        document = requests.get(swagger, headers={"Origin": "https://make.powerautomate.com"},
                                timeout=60)
        assert document.status_code == 200 and document.json()["swagger"] == "2.0"
        assert document.headers["Access-Control-Allow-Origin"] == "*"
        webhooks = [p for p in document.json()["paths"] if "/webhooks/" in p]
        assert webhooks  # the demo sets WebhookSecret
        assert requests.get(f"{service}CUSTOMERS?access={swagger.split('access=')[1]}",
                            timeout=30).status_code == 401
        _webhook_trigger_fires(service, auth, lines)


def _webhook_trigger_fires(service: str, auth: tuple[str, str], lines: dict) -> None:
    """A flow's webhook trigger on the demo: subscribe, add a record in the sandbox, get it."""
    receiver = Receiver()
    try:
        subscribed = requests.post(f"{service}$triggers/CUSTOMERS/webhooks/added", auth=auth,
                                   json={"callbackUrl": receiver.url}, timeout=30)
        assert subscribed.status_code == 201, subscribed.text
        (url,) = lines["sandbox"]
        login, password = lines["user"][0].split()
        Kintone.with_password(url, login, password).ok("POST", "record", {
            "app": 1, "record": {"customer_code": {"value": "HOOK-1"},
                                 "company_name": {"value": "Hook Ltd."}}})
        (event,) = receiver.wait_for(1)
        assert event["Event"] == "ADD_RECORD" and event["Record"]["customer_code"] == "HOOK-1"
    finally:
        receiver.down()


def test_a_data_file_is_seeded_once(tmp_path):
    data = str(tmp_path / "kintone.sqlite")
    args = ("sandbox", "--port", "0", "--data", data, "--seed", "demo")
    seen = []
    for _ in range(2):
        with running(*args, count=SEEDED_LINES) as lines:
            url = lines["sandbox"][0]
            tokens = tokens_of(lines)
            seen.append((tokens, {app: total(Kintone.with_tokens(url, t), app)
                                  for app, t in tokens.items()}))
    assert seen[0] == seen[1]
    assert len(seen[0][0]) == 3


def test_a_broken_config_file_is_reported(tmp_path):
    config = tmp_path / "sandbox.json"
    config.write_text('{"language": "fr"}', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "sandbox", "--port", "0", "--config", str(config)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "language" in result.stderr


def test_serve_reads_the_settings_file_and_its_users(tmp_path, server):
    config = tmp_path / "settings.cfg"
    config.write_text(
        f"[kintone]\nUrl = {server.url}\nAuthScheme = Password\nUser = admin\n"
        "Password = env:TEST_KINTONE_PASSWORD\n", encoding="utf-8")
    config.chmod(0o600)
    added = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "users", "add", "reader", "--config", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True)
    label, user, token = added.stdout.split()
    assert (label, user) == ("authtoken:", "reader")
    os.environ["TEST_KINTONE_PASSWORD"] = "admin-password"
    try:
        with running("serve", "--config", str(config), "--port", "0", cwd=tmp_path) as lines:
            (service,) = lines["service"]
            response = requests.get(f"{service}Apps", headers={"X-Authtoken": token},
                                    timeout=30)
            assert response.status_code == 200, response.text
            assert response.headers["OData-Version"] == "4.0"
            assert requests.get(f"{service}Apps", timeout=30).status_code == 401
    finally:
        del os.environ["TEST_KINTONE_PASSWORD"]


def test_serve_refuses_a_missing_settings_file(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--config", str(tmp_path / "none.cfg")],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "settings file not found" in result.stderr
