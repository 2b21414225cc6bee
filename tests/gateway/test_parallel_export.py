"""Parallel exports (``[kintone] ParallelReads``): pages of several Kintone pages in ``$id``
order read disjoint ``$id`` ranges at once, and serve the same rows in the same order as a
sequential read, even while records are added and deleted."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest

from tests.gateway.conftest import FAST_RETRY, RecordingClient, follow, kintone_settings, values

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "price": {"type": "NUMBER", "code": "price", "label": "Price"},
}
SEED = 6_000
PARALLEL = 3
RANGE = re.compile(r"\$id > (\d+) and \$id <= (\d+)")


class Churning(RecordingClient):
    """Before each record read of an export (while others are in flight), adds one record and
    deletes one of ``doomed``; counts the reads in flight."""

    def __init__(self, *args: Any, churn: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.churn = churn
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()

    def get_records(self, app: int, query: str = "", fields: Any = None,
                    total_count: bool = False, **options: Any):
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.churn is not None:
                self.churn()
            time.sleep(0.01)  # a Kintone call takes time: let the others overlap it
            return super().get_records(app, query, fields, total_count, **options)
        finally:
            with self._lock:
                self.in_flight -= 1


def make_sparse_app(make_app, admin, code: str) -> tuple[int, list[int]]:
    """6,000 records with gaps in their ids (runs of 7 deleted out of every 50, and the
    2,001st to 3,000th all gone); price cycles 0..9 (the first record's is 0)."""
    app, created = make_app(FIELDS, [values(title=f"t{n}", price=str(n % 10))
                                     for n in range(SEED)], code=code)
    gone = [i for n, i in enumerate(created) if n % 50 < 7 or 2_000 <= n < 3_000]
    for start in range(0, len(gone), 100):
        admin.ok("DELETE", "records", {"app": app, "ids": gone[start:start + 100]})
    price = {i: n % 10 for n, i in enumerate(created)}
    return app, [i for i in created if i not in set(gone)], price


@pytest.fixture(scope="module")
def sparse_app(make_app, admin) -> tuple[int, list[int], dict[int, int]]:
    return make_sparse_app(make_app, admin, "PAREXPORT")


def start(start_gateway, server, app: int, parallel: int, churn=None):
    settings = kintone_settings(server.url, (app,), parallel_reads=parallel)
    client = Churning(settings, retry=FAST_RETRY, churn=churn)
    gw = start_gateway([app], page_size=2000, client=client)
    gw.json("")  # the model, before counting calls
    client.queries.clear()
    return gw, client


def export(gw, *, code: str, **params: str) -> list[dict]:
    pages = follow(gw.get(code, params={"$select": "Id,title,price", **params}))
    return [entity for page in pages for entity in page["value"]]


def test_a_parallel_export_serves_the_rows_of_a_sequential_read(start_gateway, server,
                                                                 sparse_app):
    app, existing, price = sparse_app
    sequential, _ = start(start_gateway, server, app, 1)
    parallel, client = start(start_gateway, server, app, PARALLEL)
    expected = export(sequential, code="PAREXPORT", **{"$filter": "price lt 8"})
    assert [e["Id"] for e in expected] == [i for i in existing if price[i] < 8]
    assert export(parallel, code="PAREXPORT", **{"$filter": "price lt 8"}) == expected
    ranged = [query for _, query, _ in client.queries if RANGE.search(query)]
    assert len(ranged) > 6  # pages of 2,000 read as ranges, not one page after the other
    assert all(query.startswith('(price < "8") and ') for _, query, _ in client.queries)
    assert 1 < client.most_in_flight <= PARALLEL


def test_no_duplicates_and_nothing_missed_while_records_are_added_and_deleted(
        start_gateway, server, make_app, admin):
    """Records existing throughout come once each, in order; added or deleted ones at most
    once, in their place; the added ones served are the first ones added, as in a sequential
    read, which reaches the end last."""
    app, existing, _ = make_sparse_app(make_app, admin, "PARCHURN")
    doomed = existing[5::97]  # spread over every range
    stable = [i for i in existing if i not in set(doomed)]
    added: list[int] = []
    lock = threading.Lock()

    def churn() -> None:
        with lock:
            victim = doomed[len(added) % len(doomed)]
            added.extend(int(i) for i in admin.ok("POST", "records", {
                "app": app, "records": [values(title="new", price="1")]})["ids"])
        admin.delete("records", {"app": app, "ids": [victim]})  # maybe deleted already

    gw, client = start(start_gateway, server, app, PARALLEL, churn)
    served = [entity["Id"] for entity in export(gw, code="PARCHURN")]
    client.churn = None

    assert served == sorted(set(served))  # in $id order, no duplicates
    assert set(stable) <= set(served)
    assert set(served) <= set(stable) | set(doomed) | set(added)
    new = [i for i in served if i in set(added)]
    assert new == added[:len(new)]
    assert client.most_in_flight <= PARALLEL
    sequential, _ = start(start_gateway, server, app, 1)
    now = [e["Id"] for e in export(sequential, code="PARCHURN")]
    assert [i for i in served if i in set(stable)] == [i for i in now if i in set(stable)]


def test_small_pages_and_descending_reads_stay_sequential(start_gateway, server, sparse_app):
    app, existing, _ = sparse_app
    gw, client = start(start_gateway, server, app, PARALLEL)
    assert [e["Id"] for e in gw.json("PAREXPORT", params={"$top": "300"})["value"]] == \
        existing[:300]
    assert [e["Id"] for e in gw.json("PAREXPORT", params={"$orderby": "Id desc",
                                                          "$top": "1200"})["value"]] == \
        existing[::-1][:1200]
    assert not any(RANGE.search(query) for _, query, _ in client.queries)


def test_ranges_over_dense_ids_cost_the_calls_of_a_sequential_read(start_gateway, server,
                                                                     make_app):
    """A range of a page's worth of dense ids ends where its page ends: no range is read
    again, one call after the other, to find it empty (that made pages of 2,000 take
    as long as a sequential read)."""
    app, created = make_app(FIELDS, [values(title=f"d{n}", price="1") for n in range(2_600)],
                            code="PARDENSE")
    sequential, counted = start(start_gateway, server, app, 1)
    expected = export(sequential, code="PARDENSE")
    sequential_calls = len(counted.queries)
    parallel, client = start(start_gateway, server, app, PARALLEL)
    assert export(parallel, code="PARDENSE") == expected
    assert [e["Id"] for e in expected] == created
    assert len(client.queries) <= sequential_calls + 2  # + the two planning calls
    assert 1 < client.most_in_flight <= PARALLEL


def test_ranges_over_evenly_sparse_ids_are_rarely_read_twice(start_gateway, server, make_app,
                                                            admin):
    """Over sparse ids a range is sized for less than a page: how many records it holds
    varies, and one holding more than a page needs a second call, made after the first came
    back."""
    app, created = make_app(FIELDS, [values(title=f"s{n}", price="1") for n in range(3_000)],
                            code="PARGAPS")
    gone = [i for n, i in enumerate(created) if n % 50 in (3, 11, 17, 24, 36, 41, 47)]
    for start_at in range(0, len(gone), 100):
        admin.ok("DELETE", "records", {"app": app, "ids": gone[start_at:start_at + 100]})
    sequential, counted = start(start_gateway, server, app, 1)
    expected = export(sequential, code="PARGAPS")
    parallel, client = start(start_gateway, server, app, PARALLEL)
    assert export(parallel, code="PARGAPS") == expected
    assert [e["Id"] for e in expected] == [i for i in created if i not in set(gone)]
    bounds = [match for _, query, _ in client.queries if (match := RANGE.search(query))]
    assert len(bounds) - len({match.group(2) for match in bounds}) <= 1
    assert len(client.queries) <= len(counted.queries) + 4  # planning, a few smaller ranges
