"""OData 4.0 multipart/mixed ``$batch``: changesets as atomicity groups (one Kintone
bulkRequest), Content-ID references, per-part statuses and headers; and o.js (npm), an OData
client we did not write, sending its own multipart batches. Needs Node.js and npm for the o.js
test; ``npm ci`` installs it on first run."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

from tests.node import npm_installed
from tests.writes.conftest import call, ok

JS = Path(__file__).parent / "js"
FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title", "required": True},
}
SET = "Jobs"


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, name="Jobs", code=SET)[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    return start_writer([app])


def http_part(method: str, url: str, body: dict | None = None, content_id: str | None = None
              ) -> str:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        head.append(f"Content-ID: {content_id}")
    lines = [f"{method} {url} HTTP/1.1", "Accept: application/json"]
    if body is not None:
        lines.append("Content-Type: application/json")
    text = "" if body is None else json.dumps(body)
    return "\r\n".join(head) + "\r\n\r\n" + "\r\n".join(lines) + "\r\n\r\n" + text


def multipart(boundary: str, parts: list[str]) -> str:
    return "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"


def changeset(boundary: str, parts: list[str]) -> str:
    return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n" + \
        multipart(boundary, parts)


def send(gw, body: str) -> requests.Response:
    return requests.post(gw.url("$batch"), data=body.encode(), timeout=60, headers={
        **gw.auth, "Content-Type": "multipart/mixed; boundary=batch_1"})


def answers(response: requests.Response) -> list[dict]:
    """Every application/http answer: Content-ID, status, headers, body (changesets flattened)."""
    assert response.status_code == 200, response.text
    boundary = re.search(r"boundary=([^;\s]+)", response.headers["Content-Type"]).group(1)
    out = []
    for part in response.text.split(f"--{boundary}")[1:-1]:
        head, _, rest = part.strip("\r\n").partition("\r\n\r\n")
        inner = re.search(r"multipart/mixed; boundary=(\S+)", head)
        if inner:
            for nested in rest.split(f"--{inner.group(1)}")[1:-1]:
                out.append(_answer(*nested.strip("\r\n").partition("\r\n\r\n")[::2]))
        else:
            out.append(_answer(head, rest))
    return out


def _answer(head: str, rest: str) -> dict:
    content_id = re.search(r"Content-ID: (\S+)", head)
    status_head, _, body = rest.partition("\r\n\r\n")
    status_line, *lines = status_head.split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return {"id": content_id and content_id.group(1), "status": int(status_line.split()[1]),
            "headers": headers, "body": json.loads(body) if body.strip().startswith("{")
            else body}


def titles(gw) -> list[str]:
    return [row["title"] for row in ok(call(gw, "GET", SET, params={"$orderby": "Id"}))["value"]]


def test_changesets_with_content_id_references_and_a_read(gw):
    body = multipart("batch_1", [
        changeset("changeset_a", [
            http_part("POST", SET, {"title": "first"}, "1"),
            http_part("POST", SET, {"title": "second"}, "2"),
        ]),
        changeset("changeset_b", [
            http_part("PATCH", "$1", {"title": "first, renamed"}, "3"),
            http_part("DELETE", "$2", None, "4"),
        ]),
        http_part("GET", f"{SET}?$filter=startswith(title,'first')&$select=title"),
    ])
    parts = answers(send(gw, body))
    assert [(p["id"], p["status"]) for p in parts] == [("1", 201), ("2", 201), ("3", 204),
                                                        ("4", 204), (None, 200)]
    created = parts[0]["body"]
    assert parts[0]["headers"]["Location"].endswith(f"{SET}({created['Id']})")
    assert parts[0]["headers"]["ETag"] == created["@odata.etag"]
    assert parts[0]["headers"]["Content-Type"].startswith("application/json")
    assert [row["title"] for row in parts[4]["body"]["value"]] == ["first, renamed"]
    assert "second" not in titles(gw)


def test_a_reference_inside_its_own_changeset_is_refused(gw):
    body = multipart("batch_1", [changeset("changeset_c", [
        http_part("POST", SET, {"title": "third"}, "1"),
        http_part("PATCH", "$1", {"title": "third, renamed"}, "2"),
    ])])
    parts = answers(send(gw, body))
    assert [(p["id"], p["status"]) for p in parts] == [("2", 400)]
    assert "go to Kintone together" in parts[0]["body"]["error"]["message"]
    assert "third" not in titles(gw)


def test_a_failing_changeset_writes_nothing_and_answers_once(gw, admin, app):
    before = titles(gw)
    body = multipart("batch_1", [
        changeset("changeset_b", [
            http_part("POST", SET, {"title": "never"}, "1"),
            http_part("POST", SET, {}, "2"),  # title is required: Kintone refuses the group
        ]),
        http_part("GET", f"{SET}/$count"),
    ])
    parts = answers(send(gw, body))
    assert [(p["id"], p["status"]) for p in parts] == [("2", 400), (None, 200)]
    assert parts[0]["body"]["error"]["details"][0]["target"] == "title"
    assert titles(gw) == before and parts[1]["body"] == str(len(before))


@pytest.mark.parametrize("body, content_type", [
    ("--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n", "multipart/mixed; boundary=x"),
    ("--x\r\nContent-Type: application/http\r\n\r\nnot a request line\r\n--x--\r\n",
     "multipart/mixed; boundary=x"),
    ("anything", "multipart/mixed"),
    ("", "multipart/mixed; boundary=x"),
    (multipart("x", [changeset("cs", [http_part("GET", SET)])]), "multipart/mixed; boundary=x"),
])
def test_malformed_multipart_batches_are_400(gw, body, content_type):
    response = requests.post(gw.url("$batch"), data=body.encode(), timeout=30,
                             headers={**gw.auth, "Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] and response.headers["OData-Version"] == "4.0"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    return npm_installed(JS)


def test_ojs_sends_a_changeset_and_a_read_batch(node_modules, gw):
    existing = ok(call(gw, "POST", SET, {"title": "before o.js"}), 201)["Id"]
    run = subprocess.run(["node", str(JS / "ojs_batch.mjs"), gw.root, gw.token, SET,
                          str(existing)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert [(w["contentId"], w["status"]) for w in result["writes"]] == [(1, 201), (2, 201),
                                                                         (3, 204)]
    assert result["writes"][0]["body"]["title"] == "from o.js 1"
    entity, count = result["reads"]
    assert entity["status"] == 200 and entity["body"]["title"] == "patched by o.js"
    assert count["status"] == 200 and int(count["body"]) == len(titles(gw))
