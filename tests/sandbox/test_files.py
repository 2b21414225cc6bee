"""Files over HTTP: multipart upload, attaching to records, download keys and expiry."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import requests

from tests.kintone_http import Kintone, error_of

FIELDS = {"attachments": {"type": "FILE", "code": "attachments", "label": "Files"}}
DOWNLOAD_KEY = re.compile(r"\d{14}[0-9A-F]{32}")


def upload(client: Kintone, name: str, content: bytes, content_type: str | None = None):
    part = (name, content, content_type) if content_type else (name, content)
    return requests.post(client.url("file"), files={"file": part}, headers=client.headers,
                         timeout=30)


def upload_key(client: Kintone, name: str, content: bytes, content_type: str | None = None):
    response = upload(client, name, content, content_type)
    assert response.status_code == 200, response.text
    return response.json()["fileKey"]


def download(client: Kintone, key: str) -> requests.Response:
    return client.get("file", params={"fileKey": key})


def new_token(server, app: int, *rights: str) -> Kintone:
    token = requests.post(f"{server.url}/__sandbox/apps/{app}/tokens",
                          json={"rights": list(rights)}, timeout=10).json()["token"]
    return Kintone.with_tokens(server.url, token)


def attach(client: Kintone, app: int, *keys: str) -> tuple[int, list[dict]]:
    record = {"attachments": {"value": [{"fileKey": key} for key in keys]}}
    rec = int(client.ok("POST", "record", {"app": app, "record": record})["id"])
    got = client.ok("GET", "record", params={"app": app, "id": rec})["record"]
    return rec, got["attachments"]["value"]


@pytest.fixture(scope="module")
def app(admin: Kintone) -> int:
    return admin.make_app(FIELDS)


def test_upload_returns_a_temporary_key_that_is_not_downloadable(alice):
    key = upload_key(alice, "quote.pdf", b"%PDF-1.4", "application/pdf")
    assert str(uuid.UUID(key)) == key
    assert error_of(download(alice, key)) == (404, "GAIA_BL01")


def test_upload_needs_a_file_part(alice):
    response = requests.post(alice.url("file"), files={"other": ("a.txt", b"x")},
                             headers=alice.headers, timeout=30)
    assert error_of(response) == (400, "CB_VA01")
    assert "file" in response.json()["errors"]


def test_download_errors(alice):
    assert error_of(download(alice, "20240101000000" + "A" * 32)) == (404, "GAIA_BL01")
    response = alice.get("file")
    assert error_of(response) == (400, "CB_VA01")
    assert "fileKey" in response.json()["errors"]


def test_an_attached_file_gets_a_download_key_and_reads_back(alice, app):
    key = upload_key(alice, "quote.pdf", b"%PDF-1.4 body", "application/pdf")
    _, (value,) = attach(alice, app, key)
    assert value["fileKey"] != key and DOWNLOAD_KEY.fullmatch(value["fileKey"])
    assert value == {"contentType": "application/pdf", "fileKey": value["fileKey"],
                     "name": "quote.pdf", "size": "13"}
    response = download(alice, value["fileKey"])
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4 body"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="quote.pdf"'


def test_content_type_is_guessed_from_the_name_when_the_part_has_none(alice, app):
    _, (value,) = attach(alice, app, upload_key(alice, "notes.txt", b"hello"))
    assert value["contentType"] == "text/plain"


def test_non_ascii_names_are_encoded_for_the_header(alice, app):
    _, (value,) = attach(alice, app, upload_key(alice, "見積:書.txt", "本文".encode()))
    header = download(alice, value["fileKey"]).headers["Content-Disposition"]
    assert header.startswith('attachment; filename="=?UTF-8?B?')
    assert header.endswith("filename*=UTF-8''%E8%A6%8B%E7%A9%8D_%E6%9B%B8.txt")
    assert value["name"] == "見積:書.txt"


def test_an_upload_key_is_used_once(alice, app):
    key = upload_key(alice, "a.txt", b"a")
    attach(alice, app, key)
    response = alice.post("record", {"app": app, "record": {
        "attachments": {"value": [{"fileKey": key}]}}})
    assert error_of(response) == (400, "CB_VA01")


def test_resending_a_download_key_keeps_the_file_and_dropping_it_removes_it(alice, app):
    first, second = upload_key(alice, "1.txt", b"1"), upload_key(alice, "2.txt", b"2")
    rec, (kept, dropped) = attach(alice, app, first, second)
    alice.ok("PUT", "record", {"app": app, "id": rec, "record": {
        "attachments": {"value": [{"fileKey": kept["fileKey"]}]}}})
    got = alice.ok("GET", "record", params={"app": app, "id": rec})["record"]
    assert got["attachments"]["value"] == [kept]
    assert download(alice, kept["fileKey"]).content == b"1"
    assert error_of(download(alice, dropped["fileKey"])) == (404, "GAIA_BL01")


def test_any_apps_token_uploads_but_only_the_owning_apps_token_downloads(server, admin, app):
    other = admin.make_app({})
    key = upload_key(new_token(server, other, "view"), "t.txt", b"t")
    _, (value,) = attach(admin, app, key)
    assert error_of(download(new_token(server, other, "view"), value["fileKey"])) == (
        403, "GAIA_NO01")
    assert download(new_token(server, app, "view"), value["fileKey"]).content == b"t"


def test_upload_keys_expire_after_three_days(sandbox, alice, app):
    clock = sandbox.clock
    fixed, offset = clock.fixed, clock.offset
    key = upload_key(alice, "old.txt", b"old")
    try:
        clock.set(fixed, offset + timedelta(days=3))
        response = alice.post("record", {"app": app, "record": {
            "attachments": {"value": [{"fileKey": key}]}}})
        assert error_of(response) == (400, "CB_VA01")
        fresh = upload_key(alice, "new.txt", b"new")
        clock.set(fixed, offset + timedelta(days=5, hours=23))
        assert attach(alice, app, fresh)[1][0]["name"] == "new.txt"
    finally:
        clock.set(fixed, offset)
