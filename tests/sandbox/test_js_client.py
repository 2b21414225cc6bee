"""Kintone's official JavaScript client (@kintone/rest-api-client) against the sandbox.

The client's request shapes, its cursor helper and its error parsing are a second opinion on
our fidelity that we did not write. Needs Node.js and npm; ``npm ci`` installs the client
pinned in ``tests/js/package-lock.json`` on first run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from gateway.sandbox import Sandbox, SandboxServer
from tests.kintone_http import Kintone

JS = Path(__file__).resolve().parents[1] / "js"
COUNT = 1050  # three pages of the client's 500-record cursor
LOGIN, PASSWORD = "js-user", "js-password"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are needed to run the official JavaScript client",
)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    installed = JS / "node_modules"
    if not installed.exists():
        subprocess.run(["npm", "ci", "--prefix", str(JS), "--no-audit", "--no-fund"],
                       check=True, capture_output=True, timeout=300)
    return installed


@pytest.fixture(scope="module")
def server():
    sandbox = Sandbox()
    sandbox.directory.add_user(LOGIN, PASSWORD, "JS User")
    srv = SandboxServer(sandbox, host="127.0.0.1").start()
    yield srv
    srv.stop()


def run_check(url: str, app: int, auth: dict[str, str]) -> dict:
    result = subprocess.run(
        ["node", str(JS / "client_check.mjs"), url, str(app), str(COUNT)],
        capture_output=True, text=True, timeout=120, env={**os.environ, **auth},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_official_client_adds_queries_pages_and_comments(node_modules, server):
    # The client accepts plain http only for the host name "localhost".
    url = f"http://localhost:{server.port}"
    kintone = Kintone.with_password(url, LOGIN, PASSWORD)
    app = kintone.make_app({
        "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
        "n": {"type": "NUMBER", "code": "n", "label": "N"},
    })

    summary = run_check(url, app, {"KINTONE_USERNAME": LOGIN, "KINTONE_PASSWORD": PASSWORD})

    assert summary["added"] == COUNT
    assert summary["query"] == {
        "totalCount": "10",
        "titles": ["js-19", "js-18", "js-17", "js-16", "js-15"],
        "numbers": ["19", "18", "17", "16", "15"],
        "fieldCodes": ["$id", "n", "title"],
    }
    assert summary["cursor"] == {"count": COUNT, "uniqueIds": COUNT,
                                 "sum": COUNT * (COUNT - 1) // 2}
    assert summary["comment"]["texts"] == ["checked by the official client"]
    assert (summary["comment"]["older"], summary["comment"]["newer"]) == (False, False)
    assert summary["error"] == {"status": 400, "code": "GAIA_IQ11", "hasId": True}

    # What the client wrote is what the sandbox holds.
    first = summary["firstId"]
    record = kintone.ok("GET", "record", params={"app": app, "id": first})["record"]
    assert (record["title"]["value"], record["n"]["value"]) == ("js-0", "0")
    assert record["Created_by"]["value"] == {"code": LOGIN, "name": "JS User"}
    comments = kintone.ok("GET", "record/comments", params={"app": app, "record": first})
    assert [c["id"] for c in comments["comments"]] == [summary["comment"]["id"]]
    assert comments["comments"][0]["creator"]["code"] == LOGIN
    stored = kintone.ok("GET", "records", params={"app": app, "totalCount": "true",
                                                  "query": "limit 1"})
    assert stored["totalCount"] == str(COUNT)


def test_official_client_with_an_api_token(node_modules, server):
    url = f"http://localhost:{server.port}"
    kintone = Kintone.with_password(url, LOGIN, PASSWORD)
    app = kintone.make_app({
        "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
        "n": {"type": "NUMBER", "code": "n", "label": "N"},
    })
    token = requests.post(f"{server.url}/__sandbox/apps/{app}/tokens",
                          json={"rights": ["view", "add"]}, timeout=10).json()["token"]
    summary = run_check(url, app, {"KINTONE_API_TOKEN": token})
    assert summary["added"] == COUNT and summary["cursor"]["count"] == COUNT
    record = kintone.ok("GET", "record", params={"app": app, "id": summary["firstId"]})["record"]
    assert record["Created_by"]["value"]["code"] == "Administrator"  # token writes
