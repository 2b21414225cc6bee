"""Numbers in URLs and headers: ASCII digits within Edm.Int64 or a 400, decided before any
Kintone call (issue 13, items 20 and 21). ``str.isdigit`` takes ``²`` and ``٣``, ``int`` reads
``٣`` as 3 and fails on ``²``; Kintone and ``islice`` answer a too-wide integer with their own
errors (a 503 "retry" or a 500)."""

from __future__ import annotations

import pytest
import requests

from gateway.events import KintoneCallMade
from tests.gateway.conftest import values

FIELDS = {"name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name"},
          "amount": {"type": "NUMBER", "code": "amount", "label": "Amount"}}
INT64_MAX = 2**63 - 1
NOT_NUMBERS = ["²", "¹", "٣", "٣0", "1²", "9" * 5000, str(INT64_MAX + 1), "+1", "-1", "1.0",
               " 1", ""]


@pytest.fixture(scope="module")
def gw(start_gateway, make_app):
    app_id = make_app(FIELDS, [values(name=n, amount="1") for n in "abc"], code="NUMBERS")[0]
    gw = start_gateway([app_id])
    gw.kintone_calls = []
    gw.client.events.subscribe(KintoneCallMade, lambda _call: gw.kintone_calls.append(1))
    return gw


def refused(gw, path: str, *, params=None, headers=None) -> dict:
    """The 400 of ``path``, checking that Kintone was not asked."""
    gw.get("NUMBERS(1)")  # the model is loaded
    before = len(gw.kintone_calls)
    response = gw.get(path, params=params, headers=headers or {})
    assert response.status_code == 400, (path, params, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    assert len(gw.kintone_calls) == before
    return response.json()["error"]


@pytest.mark.parametrize("option", ["$top", "$skip"])
@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_top_and_skip_take_ascii_digits_within_int64(gw, option, text):
    for path in ("NUMBERS", "Apps", "Fields", "NUMBERS/$count"):
        if path.endswith("$count") and option == "$top":
            continue
        assert refused(gw, path, params={option: text})["target"] == option


@pytest.mark.parametrize("path", ["NUMBERS", "Apps", "Fields"])
def test_the_largest_skip_is_an_empty_page(gw, path):
    response = gw.get(path, params={"$skip": str(INT64_MAX), "$top": str(INT64_MAX)})
    assert response.status_code == 200, response.text
    assert response.json()["value"] == []


def test_leading_zeros_are_digits_too(gw):
    response = gw.get("NUMBERS", params={"$top": "0002", "$orderby": "name"})
    assert [r["name"] for r in response.json()["value"]] == ["a", "b"]


@pytest.mark.parametrize("text", ["²", "٣", "9" * 5000, str(INT64_MAX + 1)])
def test_a_page_size_preference_not_in_ascii_int64_is_ignored(gw, text):
    # A preference the server does not understand is ignored (RFC 7240), never an error.
    prefer = f"odata.maxpagesize={text}".encode()  # as UTF-8: requests sends str as Latin-1
    response = gw.get("NUMBERS", headers={"Prefer": prefer})
    assert response.status_code == 200, response.text
    assert "Preference-Applied" not in response.headers
    assert len(response.json()["value"]) == 3


def test_a_page_size_preference_in_ascii_digits_applies(gw):
    response = gw.get("NUMBERS", headers={"Prefer": "odata.maxpagesize=2"})
    assert response.headers["Preference-Applied"] == "odata.maxpagesize=2"
    assert len(response.json()["value"]) == 2


@pytest.mark.parametrize("key", ["²", "٣", "9" * 5000, str(INT64_MAX + 1), str(-(2**63) - 1)])
def test_keys_take_ascii_digits_within_int64(gw, key):
    refused(gw, f"NUMBERS({key})")
    refused(gw, f"Apps({key})")
    response = requests.patch(gw.url(f"NUMBERS({key})"), json={"name": "x"}, headers=gw.auth,
                              timeout=30)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("key", [str(INT64_MAX), "0", "-1", str(-(2**63))])
def test_ids_within_int64_that_name_nothing_are_not_found(gw, key):
    for path in (f"NUMBERS({key})", f"Apps({key})"):
        assert gw.get(path).status_code == 404
    if key != str(INT64_MAX):  # ids start at 1: the gateway answers before asking Kintone
        before = len(gw.kintone_calls)
        for method in ("GET", "PATCH", "DELETE"):
            response = requests.request(method, gw.url(f"NUMBERS({key})"), json={"name": "x"},
                                        headers=gw.auth, timeout=30)
            assert response.status_code == 404, (method, response.text)
            assert "start at 1" in response.json()["error"]["message"]
        assert len(gw.kintone_calls) == before


@pytest.mark.parametrize("literal", [str(INT64_MAX + 1), str(-(2**63) - 1), "٣", "9" * 300])
def test_an_int64_overflow_in_a_filter_is_a_bad_request(gw, literal):
    assert refused(gw, "NUMBERS", params={"$filter": f"$id eq {literal}".replace("$id", "Id")})
    refused(gw, "NUMBERS", params={"$filter": f"Id in (1, {literal})"})
    refused(gw, "NUMBERS/$count", params={"$filter": f"amount gt {literal}"})


def test_the_int64_bounds_in_a_filter_are_fine(gw):
    response = gw.get("NUMBERS", params={"$filter": f"Id le {INT64_MAX} and Id ge {-(2**63)}"})
    assert response.status_code == 200, response.text
    assert len(response.json()["value"]) == 3
