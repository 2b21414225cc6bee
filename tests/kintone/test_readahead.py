"""Reading the next Kintone page ahead: the same records, no call the reader will not need,
errors where the page is read, nothing left running (or a cursor left open) by an early stop."""

from __future__ import annotations

import threading

import pytest

from gateway.kintone import KintoneError, iter_records, readahead
from gateway.sandbox.cursors import cursors
from tests.kintone.conftest import FIELDS, ids

TOTAL = 1_234


@pytest.fixture(scope="module")
def app(extension) -> int:
    rows = [{"title": {"value": f"item {n:04d}"}, "price": {"value": str(n % 7)}}
            for n in range(TOTAL)]
    return extension("apps", {"name": "Read ahead", "fields": FIELDS, "records": rows})["app"]


def test_seek_reads_the_same_records_ahead(client, app):
    ahead = ids(iter_records(client, app, page_size=100, read_ahead=True))
    assert ahead == ids(iter_records(client, app, page_size=100)) == list(range(1, TOTAL + 1))


def test_no_page_is_read_past_what_the_reader_wants(counting, app):
    reader = iter_records(counting, app, page_size=100, read_ahead=True, wanted=300)
    assert len([next(reader) for _ in range(300)]) == 300
    reader.close()
    assert counting.pages == 3


def test_a_cursor_read_ahead_gives_every_record_and_releases_itself(client, sandbox, app):
    records = list(iter_records(client, app, order_by=[("title", "desc")], page_size=100,
                                read_ahead=True))
    assert [r["title"]["value"] for r in records[:2]] == ["item 1233", "item 1232"]
    assert len(records) == TOTAL and cursors(sandbox).count() == 0


def test_stopping_early_deletes_the_cursor_after_the_page_in_flight(client, sandbox, app):
    for _ in range(12):  # more than the 10 cursors a domain may hold
        reader = iter_records(client, app, order_by=[("title", "asc")], page_size=50,
                              read_ahead=True)
        assert next(reader)["title"]["value"] == "item 0000"
        reader.close()
        assert cursors(sandbox).count() == 0


def test_pages_fetch_the_next_one_while_the_current_one_is_read():
    started = threading.Event()

    def fetch_second() -> str:
        started.set()
        return "second"

    chain = readahead.pages("first", lambda page: fetch_second if page == "first" else None,
                            lambda _: True)
    assert next(chain) == "first"
    assert started.wait(5)  # before the reader asked for it
    assert list(chain) == ["second"]


def test_an_error_comes_out_where_its_page_is_read():
    def failing() -> str:
        raise KintoneError(500, None, "boom")

    chain = readahead.pages("first", lambda page: failing if page == "first" else None,
                            lambda _: True)
    assert next(chain) == "first"
    with pytest.raises(KintoneError, match="boom"):
        next(chain)


def test_closing_waits_for_the_fetch_in_flight_and_ignores_its_error():
    running, release = threading.Event(), threading.Event()
    finished = []

    def slow() -> str:
        running.set()
        release.wait(5)
        finished.append(True)
        raise KintoneError(500, None, "nobody reads this")

    chain = readahead.pages("first", lambda page: slow if page == "first" else None,
                            lambda _: True)
    assert next(chain) == "first"
    assert running.wait(5)
    threading.Timer(0.05, release.set).start()
    chain.close()
    assert finished == [True]
