"""What one request costs Kintone (issue 13 A): counted calls on a 100,000-record app, for a user
who may read one set only, and the work stopping when the client goes away."""

from __future__ import annotations

import configparser
import socket
import time
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests

from gateway.events import KintoneCallMade
from gateway.security import add_user
from gateway.security.rights import Rights
from gateway.settings import parse_settings
from gateway.web import create_app
from gateway.web.server import WebServer
from tests.conftest import ADMIN
from tests.gateway.conftest import FAST_RETRY, Gateway, RecordingClient, follow, values

RECORDS = 100_000
PER_PAGE = 4  # [gateway] CallsPerPage of the gateway under test
PER_REQUEST = 16  # [gateway] MaxCallsPerRequest
FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "lines": {"type": "SUBTABLE", "code": "lines", "label": "Lines", "fields": {
        "item": {"type": "SINGLE_LINE_TEXT", "code": "item", "label": "Item"}}},
}
NOTHING = "contains(title,'no such text')"  # a residual: Kintone cannot evaluate it


def grow(sandbox, app: int, total: int) -> None:
    """Copies of record 1 up to ``total`` records, written straight into the sandbox's database
    (seconds, where the API takes a minute)."""
    numbers = ("WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?) ")
    with sandbox.db.transaction() as conn:
        conn.execute(numbers + "INSERT INTO records (app, id, revision, data) "
                     "SELECT ?, i, 1, data FROM n, records WHERE app = ? AND id = 1",
                     (total, app, app))
        conn.execute(numbers + "INSERT INTO record_values (app, rec, code, row, s, n) "
                     "SELECT ?, i, code, row, CASE WHEN code = 'Record_number' THEN "
                     "CAST(i AS TEXT) ELSE s END, CASE WHEN code = 'Record_number' THEN i "
                     "ELSE n END FROM n, record_values WHERE app = ? AND rec = 1",
                     (total, app, app))
        conn.execute(numbers + "INSERT INTO record_words (app, rec, code, row, token) "
                     "SELECT ?, i, code, row, token FROM n, record_words "
                     "WHERE app = ? AND rec = 1", (total, app, app))
        conn.execute("UPDATE apps SET next_record_id = ? WHERE id = ?", (total + 1, app))


@pytest.fixture(scope="module")
def big(make_app, sandbox, admin):
    app, _ = make_app(FIELDS, [values(title="a", lines=[{"value": {"item": {"value": "x"}}}])],
                      code="BIG", name="Big")
    grow(sandbox, app, RECORDS)
    for record in (1, 50_000):
        admin.ok("POST", "record/comment", {"app": app, "record": record,
                                            "comment": {"text": f"on {record}"}})
    return app


@pytest.fixture(scope="module")
def small(make_app, admin):
    """12 records; comments on the first (one), the fifth (12: two Kintone pages) and the last."""
    app, _ = make_app(FIELDS, [values(title=f"r{n}") for n in range(12)], code="SMALL",
                      name="Small")
    for record, texts in {1: ["first"], 5: [f"c{n}" for n in range(12)], 12: ["last"]}.items():
        for text in texts:
            admin.ok("POST", "record/comment", {"app": app, "record": record,
                                                "comment": {"text": text}})
    return app


class CountingClient(RecordingClient):
    """Counts every HTTP call it sends to Kintone (``calls``), and notes its cursors'
    creations and deletions (``cursor_events``: "created", "deleted")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[int] = []
        self.cursor_events: list[str] = []
        self.events.subscribe(KintoneCallMade, lambda _call: self.calls.append(len(self.calls)))

    def create_cursor(self, *args: Any, **kwargs: Any):
        cursor = super().create_cursor(*args, **kwargs)
        self.cursor_events.append("created")
        return cursor

    def delete_cursor(self, cursor) -> None:
        super().delete_cursor(cursor)
        self.cursor_events.append("deleted")


class Started:
    """A gateway whose Kintone calls are counted, with a user who may only read ``BIG`` (and
    ``others`` more such users); ``settings``: {section: {key: value}} of its settings file."""

    def __init__(self, server_url: str, apps: tuple[int, ...], *, others: int = 0,
                 **settings: dict[str, Any]) -> None:
        parser = configparser.ConfigParser()
        parser.read_dict({
            "kintone": {"Url": server_url, "User": ADMIN[0], "Password": ADMIN[1],
                        "Apps": ",".join(map(str, apps)), **settings.get("kintone", {})},
            "gateway": {"PageSize": 500, **settings.get("gateway", {})},
            "triggers": {"Database": ":memory:"},
            "writes": {"IdempotencyDatabase": ":memory:"},
        })
        parsed = parse_settings(parser, {})
        rights = Rights.parse("GET:BIG,BIG_lines,SMALL,Comments POST:SMALL")  # POST: $batch
        parsed, self.token = add_user(parsed, "narrow", rights)
        self.others: list[str] = []
        for n in range(others):
            parsed, token = add_user(parsed, f"other{n}", rights)
            self.others.append(token)
        self.client = CountingClient(parsed.kintone, retry=FAST_RETRY)
        self.calls = self.client.calls
        app = create_app(parsed, client=self.client)
        self.server = WebServer(app).start()
        self.gw = Gateway(f"http://127.0.0.1:{self.server.port}/api.rsc", app, self.client,
                          self.server, self.token)

    def cost(self, path: str, **params: str) -> tuple[requests.Response, int]:
        before = len(self.calls)
        response = self.gw.get(path, params=params or None)
        return response, len(self.calls) - before


@pytest.fixture(scope="module")
def metered(server, big, small):
    started = Started(server.url, (big, small), gateway={"CallsPerPage": PER_PAGE,
                                                         "MaxCallsPerRequest": PER_REQUEST})
    yield started
    started.gw.stop()


@pytest.mark.parametrize("path, params", [
    ("BIG", {"$filter": NOTHING}),
    ("BIG", {"$filter": NOTHING, "$skip": "5"}),
    ("BIG", {"$filter": NOTHING, "$count": "true"}),
    ("BIG", {"$orderby": "title desc"}),
    ("BIG", {"$skip": "99990"}),
    ("BIG", {"$top": "100000"}),
    ("BIG/$count", {"$filter": NOTHING}),
    ("BIG_lines", {"$filter": NOTHING.replace("title", "item")}),
    ("Comments", {"$filter": "AppId eq {app}"}),
    ("Comments", {"$filter": f"AppId eq {{app}} and {NOTHING.replace('title', 'Text')}"}),
    ("Comments/$count", {"$filter": "AppId eq {app}"}),
])
def test_no_request_costs_more_than_the_documented_calls(metered, big, path, params):
    """Every answer is a page with a next link or a clear 400, never more calls."""
    params = {name: value.format(app=big) for name, value in params.items()}
    response, calls = metered.cost(path, **params)
    assert calls <= PER_REQUEST, (calls, response.status_code)
    if response.status_code == 400:
        assert response.json()["error"]["code"] == "RequestTooCostly"
    elif response.status_code == 200 and not path.endswith("$count"):
        body = response.json()
        assert "@odata.nextLink" in body, body


def test_a_filter_kintone_cannot_evaluate_pages_by_its_call_budget(metered, big):
    """Each page scans at most CallsPerPage Kintone pages and goes on from where it stopped."""
    response, calls = metered.cost("BIG", **{"$filter": "Id le 3000 and " + NOTHING})
    assert calls <= PER_PAGE + 1  # + the read-ahead in flight
    pages = follow(response)
    assert all(page["value"] == [] for page in pages)
    assert len(pages) == 3000 // (PER_PAGE * 500) + 1


def test_a_skip_past_what_a_page_may_scan_goes_on_in_the_next_page(metered):
    """$skip counts entities only the gateway can tell apart: it is carried to the next page."""
    response, calls = metered.cost("BIG", **{"$filter": "Id le 4500 and not " + NOTHING,
                                             "$skip": "4000", "$select": "Id"})
    assert calls <= PER_PAGE + 1
    pages = follow(response)
    assert [e["Id"] for page in pages for e in page["value"]] == list(range(4001, 4501))


def test_comments_amplification_is_bounded_and_pages_reach_every_comment(metered, small):
    """One call per record (and per 10 comments): a page stops after CallsPerPage of them."""
    response, calls = metered.cost("Comments", **{"$filter": f"AppId eq {small}"})
    assert calls <= PER_PAGE + 1  # + the read-ahead of the record ids
    pages = follow(response)
    texts = [c["Text"].strip() for page in pages for c in page["value"]]
    assert texts == ["first", *(f"c{n}" for n in range(12)), "last"]
    assert len(pages) >= 12 // PER_PAGE + 1


def test_a_comments_filter_on_record_ids_reads_those_records_only(metered, big):
    """Comparisons of RecordId go to Kintone as conditions on $id: the comments of two of
    100,000 records cost the call for their ids and one each, not a scan from record 1."""
    app = f"AppId eq {big}"
    response, calls = metered.cost("Comments", **{
        "$filter": f"{app} and RecordId gt 49998 and 50001 gt RecordId and RecordId ne 7"})
    body = response.json()
    assert [c["Text"].strip() for c in body["value"]] == ["on 50000"]
    assert "@odata.nextLink" not in body and calls == 3
    response, calls = metered.cost("Comments", **{
        "$filter": f"RecordId in (50000, 0, 1, 200000, 1) and {app}"})
    body = response.json()
    assert [c["Text"].strip() for c in body["value"]] == ["on 1", "on 50000"]
    assert "@odata.nextLink" not in body and calls == 3  # no query for their ids
    response, calls = metered.cost("Comments", **{"$filter": f"{app} and not (RecordId le 3)"})
    assert response.json()["value"] == [] and calls <= PER_PAGE + 1  # not a term: scanned


def test_a_count_past_the_budget_is_a_clear_error_before_anything_is_sent(metered):
    response, calls = metered.cost("BIG/$count", **{"$filter": NOTHING})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "RequestTooCostly"
    assert calls == PER_REQUEST


def test_a_batch_shares_one_budget(metered, big):
    """Sub-requests are charged to their $batch: together they stay within the budget."""
    requests_ = [{"id": str(n), "method": "GET", "url": f"BIG/$count?$filter="
                  f"{quote(NOTHING)}"} for n in range(5)]
    before = len(metered.calls)
    response = requests.post(metered.gw.url("$batch"), json={"requests": requests_},
                             headers=metered.gw.auth, timeout=60)
    assert len(metered.calls) - before <= PER_REQUEST
    assert response.status_code == 200, response.text
    assert {r["status"] for r in response.json()["responses"]} == {400}


# -- the client going away -------------------------------------------------------------------


def _raw_get(url: str, token: str) -> socket.socket:
    """A GET on a socket of its own, nothing read yet: a tiny receive buffer, so that a
    response left unread soon stalls its writer."""
    parts = urlsplit(url)
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    connection.connect((parts.hostname, parts.port))
    target = f"{parts.path}?{parts.query}"
    connection.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                       f"X-Authtoken: {token}\r\n\r\n".encode())
    return connection


def _settle(calls: list, quiet: float = 0.5) -> int:
    """The number of calls once no new one came for ``quiet`` seconds."""
    seen = -1
    while seen != len(calls):
        seen = len(calls)
        time.sleep(quiet)
    return seen


def _wait_for(calls: list, at_least: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len(calls) < at_least:
        assert time.monotonic() < deadline, len(calls)
        time.sleep(0.01)


@pytest.fixture(scope="module")
def unmetered(server, big):
    """Budgets out of the way: only the client leaving stops the work."""
    started = Started(server.url, (big,), gateway={"CallsPerPage": 10_000,
                                                   "MaxCallsPerRequest": 100_000})
    yield started
    started.gw.stop()


def test_a_client_that_hangs_up_stops_the_scan_within_one_call(unmetered, big):
    gw = unmetered
    before = len(gw.calls)
    url = gw.gw.url(f"Comments?$filter=AppId%20eq%20{big}%20and%20RecordId%20gt%201")
    connection = _raw_get(url, gw.token)
    _wait_for(gw.calls, before + 20)
    connection.close()
    closed_at = len(gw.calls)
    assert _settle(gw.calls) - closed_at <= 2  # the call in flight, and its read-ahead


def test_a_client_that_hangs_up_mid_stream_releases_the_cursor(unmetered, big):
    gw = unmetered
    before = len(gw.calls)
    connection = _raw_get(gw.gw.url("BIG?$orderby=title%20desc"), gw.token)
    head = connection.recv(4096)
    assert head.startswith(b"HTTP/1.1 200"), head
    connection.close()
    closed_at = len(gw.calls)
    settled = _settle(gw.calls)
    assert gw.client.cursor_events[-2:] == ["created", "deleted"]
    assert settled - closed_at <= 3  # the page in flight, its read-ahead, the release
    assert settled - before < RECORDS // 500  # far from reading the whole app


# -- cursors -----------------------------------------------------------------------------------

SORTED = "BIG?$orderby=title%20desc"  # 100,000 records in one stream: a Kintone cursor


@pytest.fixture
def cursored(server, big):
    """At most 2 cursors, 1 per user, deleted after a second without a page read."""
    started = Started(server.url, (big,), others=2,
                      gateway={"CallsPerPage": 10_000, "MaxCallsPerRequest": 100_000},
                      kintone={"MaxCursors": 2, "MaxCursorsPerUser": 1, "CursorIdleTimeout": 1})
    yield started
    started.gw.stop()


def _stalled(started: Started, token: str) -> socket.socket:
    """A sorted read whose client reads its head, then nothing."""
    connection = _raw_get(started.gw.url(SORTED), token)
    assert connection.recv(12) == b"HTTP/1.1 200"
    return connection


def _sorted(started: Started, token: str) -> requests.Response:
    """The answer to a sorted read, its body read only when it is an error."""
    response = requests.get(started.gw.url(SORTED), headers={"X-Authtoken": token},
                            stream=True, timeout=30)
    if response.status_code != 200:
        response.content  # noqa: B018  (read, for .text)
    response.close()
    return response


def test_cursors_are_capped_per_user_and_overall(cursored):
    first = _stalled(cursored, cursored.token)
    try:
        mine = _sorted(cursored, cursored.token)
        assert mine.status_code == 429 and "MaxCursorsPerUser" in mine.text
        assert mine.headers["Retry-After"]
        second = _stalled(cursored, cursored.others[0])
        try:
            full = _sorted(cursored, cursored.others[1])
            assert full.status_code == 429 and "MaxCursors" in full.text
        finally:
            second.close()
    finally:
        first.close()


def test_the_cursor_of_a_stalled_reader_is_released_after_the_idle_timeout(cursored):
    stalled = _stalled(cursored, cursored.token)
    try:
        deadline = time.monotonic() + 10
        while cursored.client.cursor_events != ["created", "deleted"]:
            assert time.monotonic() < deadline, "the idle cursor was not released"
            time.sleep(0.05)
        # Its user may read through a cursor again, while the stalled response still hangs.
        assert _sorted(cursored, cursored.token).status_code == 200
    finally:
        stalled.close()
