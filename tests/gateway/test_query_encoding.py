"""How the query string is decoded: ``+`` is a space (requests' and httpx's ``params=``), ``%2B``
a plus, a raw ``+hh:mm`` after a time of day an offset; malformed URLs get OData JSON errors."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
import requests

from tests.gateway.conftest import values

FIELDS = {
    "name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name"},
    "status": {"type": "SINGLE_LINE_TEXT", "code": "status", "label": "Status"},
    "at": {"type": "DATETIME", "code": "at", "label": "At"},
}
ROWS = [("Eri Fumi", "New", "2024-01-01T00:30:00Z"), ("Eri+Fumi", "Old", "2024-01-01T01:30:00Z"),
        ("Gen", "New", "2024-01-02T00:00:00Z")]


@pytest.fixture(scope="module")
def gw(start_gateway, make_app):
    app, _ = make_app(FIELDS, [values(name=n, status=s, at=a) for n, s, a in ROWS],
                      code="ENCODED")
    return start_gateway([app])


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["value"]]


def test_requests_and_httpx_params_encode_spaces_as_plus(gw):
    params = {"$filter": "status eq 'New'", "$orderby": "name desc"}
    sent = requests.get(gw.url("ENCODED"), params=params, headers=gw.auth, timeout=30)
    assert "status+eq+" in sent.url
    assert names(sent) == ["Gen", "Eri Fumi"]
    assert names(httpx.get(gw.url("ENCODED"), params=params, headers=gw.auth)) == \
        ["Gen", "Eri Fumi"]


def test_power_query_percent_20_and_an_encoded_plus(gw):
    url = gw.url("ENCODED")
    assert names(requests.get(f"{url}?$filter=name%20eq%20'Eri%2BFumi'", headers=gw.auth,
                              timeout=30)) == ["Eri+Fumi"]
    assert names(requests.get(f"{url}?$filter=name%20eq%20'Eri+Fumi'", headers=gw.auth,
                              timeout=30)) == ["Eri Fumi"]


@pytest.mark.parametrize("offset", ["+09:00", "%2B09:00", "%2B09%3A00", "+09%3A00"])
def test_date_time_offsets_raw_or_encoded(gw, offset):
    # 2024-01-01T10:00+09:00 is 01:00Z: only the first row is earlier.
    for separator in ("+", "%20"):
        query = separator.join(["$filter=at", "lt", f"2024-01-01T10:00:00{offset}"])
        assert names(requests.get(f"{gw.url('ENCODED')}?{query}", headers=gw.auth,
                                  timeout=30)) == ["Eri Fumi"], (offset, separator)


def test_a_plus_in_params_is_sent_encoded_and_stays_a_plus(gw):
    params = {"$filter": "at lt 2024-01-01T10:00:00+09:00 and name ne 'a+b'"}
    assert names(requests.get(gw.url("ENCODED"), params=params, headers=gw.auth,
                              timeout=30)) == ["Eri Fumi"]


@pytest.mark.parametrize("query", ["$filter=name%20eq%20'%E3%81'", "$filter=name%zz",
                                   "$top=1%", "%E3=1"])
def test_broken_percent_encoding_is_an_odata_error(gw, query):
    status, headers, body = raw_get(gw, f"/api.rsc/ENCODED?{query}".encode())
    assert " 400 " in status
    assert headers["odata-version"] == "4.0"
    assert json.loads(body)["error"]["message"].startswith(
        "The query string is not valid percent-encoded UTF-8")


def raw_get(gw, target: bytes) -> tuple[str, dict[str, str], bytes]:
    """A request line with raw (unencoded) bytes, as curl sends ``優先度``."""
    host, port = gw.root.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nX-Authtoken: "
                     + gw.token.encode() + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def test_raw_utf8_in_a_url_is_read_as_percent_encoded(gw):
    status, _, body = raw_get(
        gw, "/api.rsc/ENCODED?$filter=name eq 'Gen' or name eq '日本'".replace(" ", "%20")
        .encode())
    assert " 200 " in status and b'"Gen"' in body


def test_raw_bytes_that_are_not_utf8_get_an_odata_json_error(gw):
    status, headers, body = raw_get(gw, b"/api.rsc/ENCODED?$filter=name%20eq%20'\xe3\x81'")
    assert " 400 " in status
    assert headers["odata-version"] == "4.0"
    assert headers["content-type"].startswith("application/json")
    assert b"percent-encoded" in body


def test_broken_percent_encoding_in_the_path_is_an_odata_error(gw):
    status, headers, body = raw_get(gw, b"/api.rsc/ENCODED%E3%81")
    assert status.split()[1] in ("400", "404")
    assert headers["odata-version"] == "4.0" and json.loads(body)["error"]["code"]
