"""Large reads: $id seeking and cursors past Kintone's 10,000 offset limit, early close, the
cursor limit, and comment paging."""

from __future__ import annotations

import time
from itertools import islice
from types import GeneratorType, SimpleNamespace

import pytest

from gateway.http.cost import ClientGone
from gateway.kintone import iter_comments, iter_records
from gateway.kintone import transport as transport_module
from gateway.kintone.id_ranges import Parked, _Taken
from gateway.kintone.models import record_id
from gateway.kintone.paging import ranged_records
from gateway.kintone.readahead import Ahead
from gateway.sandbox.cursors import cursors
from tests.kintone.conftest import FIELDS, ids

TOTAL = 10_050


@pytest.fixture(scope="module")
def big_app(extension) -> int:
    """10,050 records; price cycles 0..99 so that a custom order differs from $id order."""
    rows = [{"title": {"value": f"item {n}"}, "price": {"value": str(n % 100)}}
            for n in range(TOTAL)]
    return extension("apps", {"name": "Big", "fields": FIELDS, "records": rows})["app"]


def test_seek_by_id_reads_past_10000_records_lazily(counting, big_app):
    reader = iter_records(counting, big_app)
    assert isinstance(reader, GeneratorType)
    assert counting.pages == 0
    first = next(reader)
    assert int(first["$id"]["value"]) == 1 and counting.pages == 1
    assert ids([first, *reader]) == list(range(1, TOTAL + 1))
    assert counting.pages == TOTAL // 500 + 1


def test_seek_descending_with_an_or_condition_and_small_pages(client, big_app):
    condition = "price = 0 or price = 99"  # parenthesised by the reader, or the seek breaks
    found = ids(iter_records(client, big_app, condition=condition,
                             order_by=[("$id", "desc")], page_size=37))
    expected = [n + 1 for n in range(TOTAL) if n % 100 in (0, 99)][::-1]
    assert found == expected


def test_seek_resumes_after_an_id(client, big_app):
    found = ids(iter_records(client, big_app, start_after_id=TOTAL - 3))
    assert found == [TOTAL - 2, TOTAL - 1, TOTAL]


def test_seek_returns_only_the_fields_asked_for(client, big_app):
    reader = iter_records(client, big_app, condition="$id <= 3", fields=["title"])
    assert [r for r in reader] == [{"title": {"type": "SINGLE_LINE_TEXT", "value": f"item {n}"}}
                                   for n in range(3)]


def test_a_custom_order_reads_through_a_cursor(client, sandbox, big_app):
    reader = iter_records(client, big_app, order_by=[("price", "desc"), ("$id", "asc")],
                          fields=["price", "$id"])
    keys = [(-int(r["price"]["value"]), int(r["$id"]["value"])) for r in reader]
    assert len(keys) == TOTAL
    assert keys == sorted(keys)
    assert cursors(sandbox).count() == 0  # the last page released it


def test_closing_early_deletes_the_cursor_every_time(client, sandbox, big_app):
    for _ in range(12):  # more than the 10 cursors a domain may hold
        reader = iter_records(client, big_app, order_by=[("title", "asc")], page_size=10)
        assert next(reader)["title"]["value"] == "item 0"
        assert cursors(sandbox).count() == 1
        reader.close()
        assert cursors(sandbox).count() == 0


def test_breaking_out_of_a_loop_deletes_the_cursor(client, sandbox, big_app):
    for record in iter_records(client, big_app, condition="price < 10",
                               order_by=[("price", "asc")]):
        if record["price"]["value"] == "1":
            break
    del record
    assert cursors(sandbox).count() == 0


def test_a_full_cursor_limit_is_waited_out(client, sandbox, big_app, monkeypatch):
    held = [client.create_cursor(big_app, "price = 1") for _ in range(10)]
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # someone else releases a cursor while we back off
        waits.append(seconds)
        client.delete_cursor(held.pop())

    monkeypatch.setattr(transport_module, "time",
                        SimpleNamespace(sleep=sleep, monotonic=time.monotonic))
    reader = iter_records(client, big_app, condition="price = 2", order_by=[("title", "desc")])
    assert len(list(reader)) == TOTAL // 100 + 1
    assert len(waits) == 1
    for cursor in held:
        client.delete_cursor(cursor)


def test_invalid_arguments_fail_at_once(client, big_app):
    with pytest.raises(ValueError, match="page_size"):
        iter_records(client, big_app, page_size=501)
    with pytest.raises(ValueError, match="start_after_id"):
        iter_records(client, big_app, order_by=[("price", "asc")], start_after_id=5)
    with pytest.raises(ValueError, match="sort direction"):
        iter_records(client, big_app, order_by=[("$id", "up")])
    with pytest.raises(ValueError, match="field code"):
        iter_records(client, big_app, order_by=[("price desc, title", "asc")])


def test_comments_are_read_ten_at_a_time(client, extension):
    app = extension("apps", {"name": "Comments", "fields": FIELDS,
                             "records": [{"title": {"value": "x"}}]})["app"]
    for n in range(25):
        client.add_comment(app, 1, f"comment {n}")
    newest_first = [c["text"].strip() for c in iter_comments(client, app, 1)]
    assert newest_first == [f"comment {n}" for n in reversed(range(25))]
    oldest_first = [c["text"].strip() for c in iter_comments(client, app, 1, order="asc")]
    assert oldest_first == [f"comment {n}" for n in range(25)]


def test_a_full_page_parks_the_first_ranges_of_the_next(counting, big_app):
    """A page whose records all came in starts the next page's first ranges, while its own are
    still being served; the next page takes them up instead of sending them again. A page that
    stops before its last Kintone page parks nothing."""
    parked = len(counting.parked)
    first = ranged_records(counting, big_app, page_size=500, parallel=4, wanted=2000, then=2000)
    page = list(islice(first, 1501))  # the last Kintone page of the 4 is in
    assert len(counting.parked) == parked + 4
    page += islice(first, 499)
    first.close()
    assert len(counting.parked) == parked + 4
    last, plan = page[-1]
    second = ranged_records(counting, big_app, page_size=500, parallel=4, wanted=2000,
                            after=record_id(last), plan=plan)
    assert ids(record for record, _ in islice(second, 2000)) == list(range(2001, 4001))
    second.close()
    assert len(counting.parked) == parked
    # Planned (2), the first page (4), the next (4, parked): no call made twice.
    assert counting.pages == 10
    short = ranged_records(counting, big_app, page_size=500, parallel=4, wanted=2000, then=2000)
    assert len(list(islice(short, 1500))) == 1500
    short.close()
    assert len(counting.parked) == parked


def test_a_write_to_the_app_drops_its_parked_reads(connect, extension):
    """A next page read after a write sees it: the app's parked reads go at the write."""
    client = connect()
    app = extension("apps", {"name": "Parked", "fields": FIELDS, "records": [
        {"title": {"value": f"item {n}"}, "price": {"value": "1"}} for n in range(3000)]})["app"]
    first = ranged_records(client, app, page_size=500, parallel=4, wanted=2000, then=2000)
    last, plan = list(islice(first, 2000))[-1]
    first.close()
    assert len(client.parked) == 2  # 2001-2500 and the tail
    cursor = client.create_cursor(app, "", ["$id"], 500)  # a read: nothing is dropped
    client.delete_cursor(cursor)
    assert len(client.parked) == 2
    client.update_records(app, [{"id": 2501, "record": {"title": {"value": "changed"}}}])
    assert len(client.parked) == 0
    second = ranged_records(client, app, page_size=500, parallel=4, wanted=1000,
                            after=record_id(last), plan=plan)
    titles = {record_id(r): r["title"]["value"] for r, _ in second}
    assert titles[2501] == "changed" and len(titles) == 1000


def test_no_reads_are_parked_when_parked_reads_is_0(connect, big_app):
    with connect(parked_reads=0) as client:
        first = ranged_records(client, big_app, page_size=500, parallel=4, wanted=2000,
                               then=2000)
        assert len(list(islice(first, 2000))) == 2000
        first.close()
        assert len(client.parked) == 0


def test_parked_reads_are_taken_once_and_dropped_when_old_or_too_many():
    now = [0.0]
    parked = Parked(most=2, seconds=30, clock=lambda: now[0])
    reads = {key: Ahead(lambda key=key: [key]) for key in "abc"}
    for key, read in reads.items():
        parked.park(1, key, read)
    assert parked.take(1, "a") is None  # the oldest, dropped for the third
    assert parked.take(2, "b") is None  # another app's
    assert parked.take(1, "b") is reads["b"] and parked.take(1, "b") is None
    now[0] = 31
    parked.park(1, "d", reads["a"])
    assert len(parked) == 1  # "c", expired, went: its records are not held for nobody
    assert parked.take(1, "c") is None and parked.take(1, "d") is reads["a"]


def test_a_parked_read_that_failed_is_made_again():
    def refused() -> list:
        raise ClientGone()

    assert _Taken(Ahead(refused), lambda: ["sent now"]).result() == ["sent now"]
