"""Server-driven paging: to the end of an app larger than Kintone's 10,000 offset limit, seek
stability while records are added, custom orders, $top/$skip across pages, maxpagesize, and
cursors released when a client goes away."""

from __future__ import annotations

import itertools
import re
import time

import pytest
import requests

from gateway.kintone import KintoneUnavailable
from gateway.sandbox.cursors import cursors
from tests.gateway.conftest import FAST_RETRY, RecordingClient, follow, kintone_settings, values

TOTAL = 10_050
FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "price": {"type": "NUMBER", "code": "price", "label": "Price"},
}
OFFSET = re.compile(r"offset (\d+)")
_small_apps = itertools.count(1)


@pytest.fixture(scope="module")
def big_app(make_app) -> int:
    """10,050 records; price cycles 0..99, so ordering by price differs from $id order."""
    rows = [values(title=f"item {n}", price=str(n % 100)) for n in range(TOTAL)]
    return make_app(FIELDS, rows, code="BIG")[0]


@pytest.fixture(scope="module")
def big(start_gateway, big_app):
    return start_gateway([big_app])


def ids(pages: list[dict]) -> list[int]:
    return [entity["Id"] for page in pages for entity in page["value"]]


def offsets(gw) -> list[int]:
    return [int(n) for _, query, _ in gw.client.queries for n in OFFSET.findall(query)]


def test_reads_an_app_past_10000_records_to_the_end(big):
    big.client.queries.clear()
    pages = follow(big.get("BIG", params={"$select": "Id,title"}))
    assert ids(pages) == list(range(1, TOTAL + 1))
    assert [len(page["value"]) for page in pages[:-1]] == [500] * (len(pages) - 1)
    assert set(pages[0]["value"][0]) == {"@odata.etag", "Id", "title"}
    assert all("offset" not in query for _, query, _ in big.client.queries)
    # Seek: one Kintone call per page, asking only for the selected fields and the paging keys.
    assert len(big.client.queries) == len(pages)
    assert {tuple(sorted(fields)) for _, _, fields in big.client.queries} == {
        ("$id", "$revision", "title")}


def test_a_custom_order_past_the_offset_limit_is_one_streamed_response(big):
    big.client.queries.clear()
    response = big.get("BIG", params={"$orderby": "price desc", "$select": "Id,price"})
    body = response.json()
    assert "@odata.nextLink" not in body
    keys = [(-entity["price"], entity["Id"]) for entity in body["value"]]
    assert len(keys) == TOTAL and keys == sorted(keys)
    assert [kind for kind, _, _ in big.client.queries] == ["records", "cursor"]
    assert offsets(big) == []
    assert response.headers["Transfer-Encoding"] == "chunked"


class FailingSecondCall(RecordingClient):
    def get_records(self, app, query="", fields=None, total_count=False, **options):
        if len(self.queries) == 1:
            self.queries.append(("records", query, fields))
            raise KintoneUnavailable(503, None, "Kintone is down for maintenance.")
        return super().get_records(app, query, fields, total_count, **options)


def test_a_kintone_call_failing_within_the_first_chunks_is_an_error_status(
        start_gateway, server, big_app, caplog):
    """A page of 1,000 ids (one chunk of the body) takes two Kintone calls; the second fails
    before anything was sent, so the client gets an OData error, not a 200 cut short."""
    client = FailingSecondCall(kintone_settings(server.url, (big_app,)), retry=FAST_RETRY)
    gw = start_gateway([big_app], page_size=1000, client=client)
    gw.json("")  # the model is read before the failing call
    client.queries.clear()
    response = gw.get("BIG", params={"$select": "Id"})
    assert response.status_code == 503
    assert response.json()["error"]["message"]
    assert [kind for kind, _, _ in client.queries] == ["records", "records"]
    assert "cut short" not in caplog.text  # it was not: nothing had been sent


def test_a_page_that_fits_one_chunk_is_sent_with_its_length(big):
    response = big.get("BIG", params={"$top": "50"})
    assert len(response.json()["value"]) == 50
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert "Transfer-Encoding" not in response.headers


def test_a_custom_order_within_the_limit_pages_by_offset(big):
    big.client.queries.clear()
    query = {"$orderby": "price desc,title", "$filter": "price lt 10", "$select": "price,title"}
    pages = follow(big.get("BIG", params=query))
    entities = [entity for page in pages for entity in page["value"]]
    expected = sorted((-(n % 100), f"item {n}") for n in range(TOTAL) if n % 100 < 10)
    assert [(-e["price"], e["title"]) for e in entities] == expected
    assert len(pages) == 3  # 1,010 records by 500
    assert offsets(big) == [0, 500, 1000]
    assert all('price < "10"' in query for _, query, _ in big.client.queries)


def test_top_and_skip_are_pushed_down_on_an_exact_filter(big):
    big.client.queries.clear()
    body = big.json("BIG", params={"$filter": "price eq 7", "$skip": "3", "$top": "2",
                                   "$select": "Id"})
    assert ids([body]) == [308, 408]
    assert "@odata.nextLink" not in body
    # One call finds where to start, one reads exactly two records.
    assert [query for _, query, _ in big.client.queries] == [
        'price = "7" order by $id asc limit 1 offset 2',
        '(price = "7") and ($id > 208) order by $id asc limit 2',
    ]


def test_count_is_kintones_total_count_and_ignores_top(big):
    big.client.queries.clear()
    body = big.json("BIG", params={"$filter": "price ge 50", "$count": "true", "$top": "3"})
    assert body["@odata.count"] == 5000
    assert len(body["value"]) == 3
    assert [query for _, query, _ in big.client.queries] == [
        'price >= "50" limit 1', 'price >= "50" order by $id asc limit 3']


@pytest.fixture
def small(start_gateway, make_app):
    """A fresh app of 10 records (ids 1-10, price = id - 1), pages of 3."""
    code = f"SMALL{next(_small_apps)}"
    app, _ = make_app(FIELDS, [values(title=f"t{n}", price=str(n)) for n in range(10)],
                      code=code)
    return start_gateway([app], page_size=3), app, code


def test_seek_stays_right_while_records_are_added_and_deleted(small, extension, admin):
    gw, app, code = small
    first = gw.json(code)
    assert ids([first]) == [1, 2, 3]
    extension(f"apps/{app}/records", {"records": [values(title="new", price="99")]})
    admin.ok("DELETE", "records", {"app": app, "ids": [2, 5]})
    pages = [first, *follow(requests.get(first["@odata.nextLink"], headers=gw.auth, timeout=60))]
    assert ids(pages) == [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]


def test_top_and_skip_across_pages(small):
    gw, _, code = small
    pages = follow(gw.get(code, params={"$skip": "2", "$top": "7"}))
    assert [ids([page]) for page in pages] == [[3, 4, 5], [6, 7, 8], [9]]


def test_a_residual_filter_pages_over_the_matching_rows(small):
    gw, _, code = small
    pages = follow(gw.get(code, params={"$filter": "contains(title,'1') or price eq 5"}))
    assert ids(pages) == [2, 6]
    assert all(len(page["value"]) <= 3 for page in pages)


def test_prefer_maxpagesize(small):
    gw, _, code = small
    prefer = {"Prefer": "odata.maxpagesize=2"}
    response = gw.get(code, headers=prefer)
    assert response.headers["Preference-Applied"] == "odata.maxpagesize=2"
    pages = follow(response, prefer)
    assert [len(page["value"]) for page in pages] == [2, 2, 2, 2, 2, 0]
    # A larger wish than the configured page size is capped by it.
    assert len(gw.json(code, headers={"Prefer": "odata.maxpagesize=50"})["value"]) == 3


def test_a_tampered_or_foreign_skiptoken_is_refused(small):
    gw, _, code = small
    link = gw.json(code)["@odata.nextLink"]
    token = link.split("$skiptoken=")[1]
    forged = token.replace(token[5], "A" if token[5] != "A" else "B", 1)
    for params in ({"$skiptoken": forged}, {"$skiptoken": token, "$filter": "price gt 1"}):
        response = gw.get(code, params=params)
        assert response.status_code == 400
        assert response.json()["error"]["target"] == "$skiptoken"


def test_a_client_that_goes_away_releases_the_kintone_cursor(big, sandbox):
    response = big.get("BIG", params={"$orderby": "title"}, stream=True)
    assert response.status_code == 200
    next(response.iter_content(1024))
    assert cursors(sandbox).count() == 1
    response.close()
    deadline = time.monotonic() + 10
    while cursors(sandbox).count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cursors(sandbox).count() == 0


def test_ordered_by_id_descending_seeks_backwards(small):
    gw, _, code = small
    pages = follow(gw.get(code, params={"$orderby": "Id desc", "$top": "5"}))
    assert [ids([page]) for page in pages] == [[10, 9, 8], [7, 6]]
    assert all("offset" not in query for _, query, _ in gw.client.queries)


def test_subtable_rows_page_across_and_within_records(start_gateway, make_app):
    fields = {"lines": {"type": "SUBTABLE", "code": "lines", "label": "Lines", "fields": {
        "item": {"type": "SINGLE_LINE_TEXT", "code": "item", "label": "Item"}}}}
    rows = [values(lines=[{"value": values(item=f"{r}.{n}")} for n in range(3)])
            for r in range(1, 4)]
    app, _ = make_app(fields, rows, code="LINES")
    gw = start_gateway([app], page_size=2)
    pages = follow(gw.get("LINES_lines"))
    assert [[row["item"] for row in page["value"]] for page in pages] == [
        ["1.0", "1.1"], ["1.2", "2.0"], ["2.1", "2.2"], ["3.0", "3.1"], ["3.2"]]
    filtered = follow(gw.get("LINES_lines", params={"$filter": "endswith(item,'.1')",
                                                     "$count": "true"}))
    assert [row["RecordId"] for page in filtered for row in page["value"]] == [1, 2, 3]
    assert filtered[0]["@odata.count"] == 3
    assert gw.get("LINES_lines", params={"$orderby": "item"}).status_code == 501
