"""Records decoded through a layout (kintone/layout.py) hold the values Kintone's dicts hold,
for every kind of value, on every read path (a page, a seek, ranges, a cursor)."""

from __future__ import annotations

import pytest
import urllib3

from gateway.kintone import KintoneUnavailable, iter_records
from gateway.kintone.layout import RecordLayout, record_layout
from gateway.kintone.paging import ranged_records
from gateway.kintone.transport import _json

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "price": {"type": "NUMBER", "code": "price", "label": "Price"},
    "tags": {"type": "CHECK_BOX", "code": "tags", "label": "Tags", "options": {
        "a": {"label": "a", "index": "0"}, "b": {"label": "b", "index": "1"}}},
    "when": {"type": "DATETIME", "code": "when", "label": "When"},
    "people": {"type": "USER_SELECT", "code": "people", "label": "People"},
    "lines": {"type": "SUBTABLE", "code": "lines", "label": "Lines", "fields": {
        "item": {"type": "SINGLE_LINE_TEXT", "code": "item", "label": "Item"}}},
}
CODES = ("title", "price", "tags", "when", "people", "lines", "Created_by", "$revision")


@pytest.fixture(scope="module")
def app(extension) -> int:
    rows = [{"title": {"value": f"item {n}"}, "price": {"value": str(n % 7)},
             "tags": {"value": ["a", "b"][: n % 3]},
             "when": {"value": f"2024-05-{n % 28 + 1:02d}T09:30:00Z" if n % 4 else ""},
             "people": {"value": [{"code": "admin"}] if n % 2 else []},
             "lines": {"value": [{"value": {"item": {"value": f"line {n}"}}}] if n % 5 else []}}
            for n in range(1_200)]
    return extension("apps", {"name": "Layout", "fields": FIELDS, "records": rows})["app"]


def as_dicts(records: list[dict]) -> list[tuple]:
    return [tuple(record.get(code, {}).get("value") for code in ("$id", *CODES))
            for record in records]


def as_rows(layout: RecordLayout, rows: list) -> list[tuple]:
    values = layout.values(("$id", *CODES))
    return [values(row) for row in rows]


def test_a_page_decoded_through_a_layout_holds_the_values_of_the_dicts(client, app):
    layout = record_layout(CODES)
    query = "price >= 3 order by $id desc limit 500"
    page = client.get_records(app, query, total_count=True, layout=layout)
    plain = client.get_records(app, query, total_count=True)
    assert len(page.records) == 500 and page.total_count == plain.total_count == 684
    assert as_rows(layout, page.records) == as_dicts(plain.records)
    assert [row.id for row in page.records] == [int(r["$id"]["value"]) for r in plain.records]


def test_a_field_missing_from_the_answer_reads_as_null(client, app):
    """As a dict record's: a field not asked for (or hidden by field permissions)."""
    layout = record_layout(("title", "price"))
    page = client.get_records(app, "order by $id asc limit 2", ["title", "$id"], layout=layout)
    assert [layout.values(("$id", "title", "price"))(row) for row in page.records] == [
        ("1", "item 0", None), ("2", "item 1", None)]


def test_every_read_path_serves_rows_in_the_order_of_dicts(client, app):
    layout = record_layout(CODES)
    condition = "price in (1, 2)"
    cases = [
        (dict(order_by=[("$id", "desc")], page_size=90), "a seek"),
        (dict(order_by=[("price", "desc"), ("$id", "asc")]), "a cursor"),
    ]
    for options, name in cases:
        rows = list(iter_records(client, app, condition=condition, layout=layout, **options))
        dicts = list(iter_records(client, app, condition=condition, **options))
        assert as_rows(layout, rows) == as_dicts(dicts), name
    ranged = [row for row, _ in ranged_records(client, app, condition=condition,
                                               page_size=100, parallel=4, layout=layout)]
    dicts = list(iter_records(client, app, condition=condition))
    assert as_rows(layout, ranged) == as_dicts(dicts)


def test_an_answer_that_is_not_a_page_of_records_is_a_kintone_error():
    """A proxy's or a broken server's 200 is translated as any answer without Kintone JSON."""
    layout = record_layout(("title",))
    for body in (b"<html>maintenance</html>", b'{"records": 3}',
                 b'{"records": [{"title": "not a cell"}]}'):
        response = urllib3.HTTPResponse(body=body, status=200)
        with pytest.raises(KintoneUnavailable, match="without a Kintone JSON body"):
            _json(response, layout.decode)
