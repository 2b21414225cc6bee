"""Polling triggers end to end: the 202/200 protocol, signed states, and exactly-once delivery
of changes even when a thousand records change in the same minute (the sandbox's clock pinned)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import ADMIN
from tests.gateway.conftest import Gateway
from tests.kintone_http import Kintone

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
SET = "PollingApp"
T0 = "2031-03-04T10:00:05+00:00"  # the minute every change of the big test shares


@pytest.fixture(scope="module")
def app(make_app, clock) -> int:
    clock(now="2031-03-01T08:00:00+00:00")
    app_id, _ = make_app(FIELDS, [{"title": {"value": f"r{n}"}} for n in range(1000)],
                         name=SET)
    return app_id


@pytest.fixture(scope="module")
def gw(start_triggers: Callable[..., Gateway], app: int) -> Gateway:
    return start_triggers([app])


def poll(gw: Gateway, url: str) -> requests.Response:
    response = requests.get(url, headers=gw.auth, timeout=60)
    assert response.status_code in (200, 202), response.text
    assert "Location" in response.headers and "Retry-After" in response.headers
    return response


def drain(gw: Gateway, url: str) -> tuple[list[tuple[int, int]], str, requests.Response]:
    """Poll while Retry-After is 0: the (Id, Revision) served, the next URL, the last answer."""
    served: list[tuple[int, int]] = []
    while True:
        response = poll(gw, url)
        url = response.headers["Location"]
        if response.status_code == 200:
            served += [(e["Id"], e["Revision"]) for e in response.json()["value"]]
        if response.headers["Retry-After"] != "0":
            return served, url, response


def test_added_trigger(gw: Gateway, server, app: int, clock):
    first = poll(gw, gw.url(f"$triggers/{SET}/added"))
    assert first.status_code == 202 and first.headers["Retry-After"] == "60"
    nothing = poll(gw, first.headers["Location"])
    assert nothing.status_code == 202
    assert nothing.headers["Location"] == first.headers["Location"]
    admin = Kintone.with_password(server.url, *ADMIN)
    ids = [int(admin.ok("POST", "record", {"app": app, "record": {"title": {"value": f"n{i}"}}})
               ["id"]) for i in range(3)]
    found = poll(gw, nothing.headers["Location"])
    assert found.status_code == 200 and found.headers["Retry-After"] == "60"
    body = found.json()
    assert [e["Id"] for e in body["value"]] == ids
    assert body["value"][0]["title"] == "n0" and body["value"][0]["@odata.etag"] == 'W/"1"'
    assert body["@odata.context"].endswith(f"/$metadata#{SET}")
    assert poll(gw, found.headers["Location"]).status_code == 202


def test_forged_or_foreign_state_is_refused(gw: Gateway):
    location = poll(gw, gw.url(f"$triggers/{SET}/added")).headers["Location"]
    state = parse_qs(urlsplit(location).query)["triggerState"][0]
    payload, _, mac = state.partition(".")
    for bad in (f"{payload}x.{mac}", "garbage",):
        response = requests.get(gw.url(f"$triggers/{SET}/added"), headers=gw.auth,
                                params={"triggerState": bad}, timeout=30)
        assert response.status_code == 400
        assert response.json()["error"]["target"] == "triggerState"
    response = requests.get(gw.url(f"$triggers/{SET}/updated"), headers=gw.auth,
                            params={"triggerState": state}, timeout=30)
    assert response.status_code == 400  # an "added" state is no "updated" state


def test_errors_are_odata(gw: Gateway):
    for path, status in (("$triggers/Nope/added", 404), ("$triggers/Comments/added", 404),
                         (f"$triggers/{SET}/removed", 404)):
        response = requests.get(gw.url(path), headers=gw.auth, timeout=30)
        assert response.status_code == status, (path, response.text)
        assert "error" in response.json()
    assert requests.get(gw.url(f"$triggers/{SET}/added"), timeout=30).status_code == 401


def test_thousand_updates_in_one_minute_each_once(gw: Gateway, server, app: int, clock):
    clock(now=T0)
    start = poll(gw, gw.url(f"$triggers/{SET}/updated"))
    assert start.status_code == 202
    admin = Kintone.with_password(server.url, *ADMIN)
    ids = [int(r["$id"]["value"]) for r in admin.ok("GET", "records", params={
        "app": app, "query": "order by $id asc limit 500", "fields": ["$id"]})["records"]]
    ids += [int(r["$id"]["value"]) for r in admin.ok("GET", "records", params={
        "app": app, "query": "order by $id asc limit 500 offset 500",
        "fields": ["$id"]})["records"]]
    for chunk in range(0, 1000, 100):
        admin.ok("PUT", "records", {"app": app, "records": [
            {"id": i, "record": {"title": {"value": f"u{i}"}}} for i in ids[chunk:chunk + 100]]})
    # The minute is still open: the trigger serves what it can remember, then waits for it.
    served, url, last = drain(gw, start.headers["Location"])
    assert len(served) == 100 and int(last.headers["Retry-After"]) > 60
    # A record served during the minute and changed again within it comes again, once.
    again = served[0][0]
    admin.ok("PUT", "record", {"app": app, "id": again, "record": {"title": {"value": "v"}}})
    clock(now="2031-03-04T10:03:00+00:00")  # the minute is closed: the rest, by watermark
    rest, url, last = drain(gw, url)
    assert last.status_code == 202 or last.headers["Retry-After"] == "60"
    everything = served + rest
    assert len(everything) == len(set(everything)) == 1001
    assert {i for i, _ in everything} == set(ids)
    assert (again, 3) in everything
    assert poll(gw, url).status_code == 202
