"""Server-Timing on OData data responses, and the debug headers only an administrator who asks
for them gets: the Kintone query, the residual, the paging (docs: README, "Diagnosing a
request")."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from gateway.security import READ_ONLY, add_user
from gateway.settings import GatewaySettings, Settings
from tests.gateway.conftest import Gateway, kintone_settings, values

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "価格": {"type": "NUMBER", "code": "価格", "label": "Price"},
}
TIMING = re.compile(r'parse;dur=[\d.]+, plan;dur=[\d.]+, kintone;dur=([\d.]+);desc="(\d+) '
                    r'calls?", shape;dur=[\d.]+')
DEBUG = {"Prefer": "kintone.debug"}
DEBUG_HEADERS = ("Kintone-Query", "Kintone-Residual", "Kintone-Paging")


@pytest.fixture(scope="module")
def gw(make_app, start_gateway, server) -> tuple[Gateway, str]:
    """A gateway whose test user is an administrator, and the token of a reader who is not."""
    titles = ["t1", "t2", "t3", "t'4", "t5"]
    app, _ = make_app(FIELDS, [values(title=title, 価格=str(price))
                               for price, title in enumerate(titles, 1)], name="Timed")
    base, reader = add_user(Settings(kintone=kintone_settings(server.url, (app,)),
                                     gateway=GatewaySettings()), "reader", READ_ONLY)
    return start_gateway([app], sections=dict(base.sections)), reader


@pytest.mark.parametrize("path", ["Timed", "Timed/$count", "Timed(1)"])
def test_server_timing_has_the_four_metrics(gw, path: str) -> None:
    gateway, _ = gw
    response = gateway.get(path, params={"$filter": "価格 gt 1"} if "(" not in path else None)
    assert response.status_code == 200, response.text
    timing = TIMING.fullmatch(response.headers["Server-Timing"])
    assert timing, response.headers["Server-Timing"]
    assert float(timing.group(1)) > 0
    assert int(timing.group(2)) >= 1  # the read's Kintone call(s)


def test_server_timing_counts_every_kintone_call(gw) -> None:
    gateway, _ = gw
    response = gateway.get("Timed", params={"$orderby": "title"})
    assert response.status_code == 200
    timing = TIMING.fullmatch(response.headers["Server-Timing"])
    assert timing and int(timing.group(2)) == 2  # the count, then the offset page


def test_no_server_timing_on_documents(gw) -> None:
    gateway, _ = gw
    assert "Server-Timing" not in gateway.get("").headers
    assert "Server-Timing" not in gateway.get("$metadata").headers


def test_an_administrator_who_asks_gets_the_kintone_query_and_the_residual(gw) -> None:
    gateway, _ = gw
    response = gateway.get("Timed", params={"$filter": "価格 gt 1 and contains(title,'t''4')",
                                            "$top": "2"}, headers=DEBUG)
    assert response.status_code == 200, response.text
    assert [e["title"] for e in response.json()["value"]] == ["t'4"]
    headers = response.headers
    # Non-ASCII percent-encoded, as every header is.
    assert headers["Kintone-Query"].isascii()
    assert unquote(headers["Kintone-Query"]) == '価格 > "1" order by $id asc'
    assert headers["Kintone-Residual"] == "contains(title, 't''4')"
    assert headers["Kintone-Paging"] == "seek; 500 per call"  # a residual: whole pages
    assert headers["Preference-Applied"] == "kintone.debug"


def test_an_exact_query_has_no_residual(gw) -> None:
    gateway, _ = gw
    response = gateway.get("Timed", params={"$orderby": "title desc", "$top": "2"},
                           headers={"Prefer": "odata.maxpagesize=1, kintone.debug"})
    assert response.status_code == 200
    assert response.headers["Kintone-Query"] == "order by title desc, $id asc"
    assert response.headers["Kintone-Paging"] == "offset; 1 per call"
    assert "Kintone-Residual" not in response.headers
    assert response.headers["Preference-Applied"] == "odata.maxpagesize=1, kintone.debug"


def test_a_pushed_skip_is_in_the_paging(gw) -> None:
    gateway, _ = gw
    response = gateway.get("Timed", params={"$skip": "1", "$top": "2"}, headers=DEBUG)
    assert [e["title"] for e in response.json()["value"]] == ["t2", "t3"]
    assert response.headers["Kintone-Paging"] == "seek; 2 per call; after match 1"


def test_a_count_and_an_entity_say_what_they_asked(gw) -> None:
    gateway, _ = gw
    count = gateway.get("Timed/$count", params={"$filter": "価格 ge 2"}, headers=DEBUG)
    assert (count.text, unquote(count.headers["Kintone-Query"])) == (
        "4", '価格 >= "2" order by $id asc')
    assert count.headers["Kintone-Paging"] == "count: one call"
    entity = gateway.get("Timed(3)", headers=DEBUG)
    assert entity.headers["Kintone-Query"] == "$id = 3"


def test_no_debug_headers_for_a_reader_who_asks(gw) -> None:
    gateway, reader = gw
    response = gateway.get("Timed", params={"$filter": "contains(title,'t')"},
                           headers={**DEBUG, "X-Authtoken": reader})
    assert response.status_code == 200, response.text
    assert not any(name in response.headers for name in DEBUG_HEADERS)
    assert "Preference-Applied" not in response.headers
    assert TIMING.fullmatch(response.headers["Server-Timing"])  # timing is for everyone


def test_no_debug_headers_unless_asked(gw) -> None:
    gateway, _ = gw
    response = gateway.get("Timed", params={"$filter": "contains(title,'t')"})
    assert response.status_code == 200
    assert not any(name in response.headers for name in DEBUG_HEADERS)
