"""The read plan of a record set, from the query alone: no Kintone, no HTTP.

Each case is a query (options, the page's window, where a previous page stopped) and the plan
it must give: what Kintone is asked, what the gateway still checks, how the records are paged
and how many each call asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from gateway.kintone.id_ranges import RangePlan
from gateway.model.builder import build_model
from gateway.odata.errors import ODataError
from gateway.odata.options import parse_options
from gateway.service.pages import Window
from gateway.service.read_plan import UNKNOWN, Paging, ReadPlan, plan_read
from gateway.settings import AuthScheme, KintoneSettings

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT"},
    "memo": {"type": "MULTI_LINE_TEXT"},
    "price": {"type": "NUMBER"},
    "due": {"type": "DATE"},
    "tags": {"type": "CHECK_BOX", "options": {"x": {"label": "x", "index": "0"}}},
}
MODEL = build_model(
    [{"appId": "1", "code": "", "name": "Deals"}],
    {1: {code: {"code": code, "label": code, **props} for code, props in FIELDS.items()}},
)
DEALS = MODEL.entity_set("Deals")
SETTINGS = KintoneSettings(url="https://example.cybozu.com", auth_scheme=AuthScheme.PASSWORD)
PAGE = Window(size=500)
ALL = ("Id", "Revision", "title", "memo", "price", "due", "tags")


def plan(query: str = "", window: Window = PAGE, state: dict | None = None,
         settings: KintoneSettings = SETTINGS, names: tuple[str, ...] = ALL) -> ReadPlan:
    """The plan of ``query`` (``$filter=...&$top=...``) on Deals."""
    pairs = [tuple(part.split("=", 1)) for part in query.split("&") if part]
    options = parse_options(pairs)
    return plan_read(DEALS, options, settings, names=names, window=_window(window, options),
                     state=state)


def _window(window: Window, options: Any) -> Window:
    """The window a first page of ``options`` has (as ``Reader`` makes it)."""
    return replace(window, skip=options.skip or window.skip,
                   left=options.top if options.top is not None else window.left)


@dataclass(frozen=True)
class Expected:
    paging: Paging
    batch: int
    condition: str = ""
    exact: bool = True
    wanted: int | None = 500
    skip: int = 0
    window_skip: int = 0
    query: str | None = None


CASES = {
    # The default: seek on $id, one page of 500 in one call.
    "": Expected(Paging.SEEK, 500, query="order by $id asc"),
    # A small $top asks Kintone for just that many.
    "$top=5": Expected(Paging.SEEK, 5, wanted=5),
    # Fully pushed: Kintone's answer is exact.
    "$filter=price gt 5": Expected(Paging.SEEK, 500, 'price > "5"',
                                   query='price > "5" order by $id asc'),
    # Partly residual: what passes is unknown, so whole Kintone pages, nothing read ahead, and
    # $top/$skip counted by the gateway.
    "$filter=price gt 5 and contains(title,'x')&$top=5&$skip=3": Expected(
        Paging.SEEK, 500, 'price > "5"', exact=False, wanted=UNKNOWN, window_skip=3),
    "$filter=contains(title,'x')": Expected(Paging.SEEK, 500, exact=False, wanted=UNKNOWN),
    # $skip on an exact condition: the read starts after the 20th matching record.
    "$skip=20&$top=10": Expected(Paging.SEEK, 10, wanted=10, skip=20),
    "$skip=15000&$top=10": Expected(Paging.SEEK, 10, wanted=10, skip=15000),
    # Descending $id: seek too, never ranges (records are added at the top).
    "$orderby=Id desc": Expected(Paging.SEEK, 500, query="order by $id desc"),
    # Any other order: offsets, once a count says the page ends within Kintone's limit.
    "$orderby=price desc": Expected(Paging.OFFSET, 500, wanted=UNKNOWN,
                                    query="order by price desc, $id asc"),
    "$orderby=due,title&$skip=30&$top=7": Expected(Paging.OFFSET, 7, wanted=UNKNOWN, skip=30,
                                                   query="order by due asc, title asc, "
                                                         "$id asc"),
    "$orderby=price&$filter=contains(title,'x')&$skip=30": Expected(
        Paging.OFFSET, 500, exact=False, wanted=UNKNOWN, window_skip=30),
}


@pytest.mark.parametrize("query", CASES)
def test_plans(query: str) -> None:
    expected = CASES[query]
    planned = plan(query)
    assert planned.paging is expected.paging
    assert planned.batch == expected.batch
    assert planned.condition == expected.condition
    assert (planned.residual is None) is expected.exact
    assert planned.wanted == expected.wanted
    assert planned.skip == expected.skip
    assert planned.window.skip == expected.window_skip
    if expected.query is not None:
        assert planned.query.text == expected.query


def test_a_page_needing_several_calls_reads_id_ranges_at_once() -> None:
    planned = plan(window=Window(size=700))
    assert planned.paging is Paging.RANGES
    assert (planned.batch, planned.wanted) == (350, 700)  # two equal calls, not 500 + 200
    whole = plan(window=Window(size=None))
    assert (whole.paging, whole.batch, whole.wanted) == (Paging.RANGES, 500, None)


def test_ranges_only_when_several_calls_may_run_at_once() -> None:
    one_at_a_time = replace(SETTINGS, parallel_reads=1)
    assert plan(window=Window(size=700), settings=one_at_a_time).paging is Paging.SEEK
    capped = replace(SETTINGS, parallel_reads=8, max_concurrent_requests=1)
    assert plan(window=Window(size=None), settings=capped).paging is Paging.SEEK
    assert plan(window=Window(size=None)).query.parallel == 4


def test_ranges_not_for_a_residual_or_a_page_of_one_call() -> None:
    # How many records a page of entities passing a residual reads is unknown ...
    assert plan("$filter=contains(title,'x')", Window(size=700)).paging is Paging.SEEK
    # ... unless it reads them all.
    assert plan("$filter=contains(title,'x')", Window(size=None)).paging is Paging.RANGES
    assert plan("$top=500", Window(size=None)).paging is Paging.SEEK
    assert plan("$top=501", Window(size=None)).paging is Paging.RANGES


def test_skip_is_found_by_one_offset_call_within_the_limit() -> None:
    assert plan("$skip=10001&$top=1").skip_by_offset  # offset 10,000: the last allowed
    assert not plan("$skip=10002&$top=1").skip_by_offset  # read the ids up to it instead


def test_a_count_decides_between_offsets_and_a_cursor() -> None:
    first = plan("$orderby=price")
    assert first.count_first
    within = first.counted(10_000)
    assert (within.paging, within.count_first, within.calls) == (Paging.OFFSET, False, 0)
    beyond = first.counted(12_345)
    assert beyond.paging is Paging.CURSOR
    assert beyond.window.size is None  # one streamed response: a cursor cannot be resumed
    assert beyond.calls == 26  # 25 pages and the cursor, refused first if over the budget
    assert beyond.wanted is None
    assert first.counted(12_345) == beyond  # a value: the same inputs, the same plan


def test_a_small_top_past_the_limit_needs_no_cursor() -> None:
    planned = plan("$orderby=price&$skip=9990&$top=10")
    assert planned.counted(50_000).paging is Paging.OFFSET  # the page ends at 10,000
    cursor = plan("$orderby=price&$skip=9990&$top=11").counted(50_000)
    assert (cursor.paging, cursor.skip, cursor.wanted) == (Paging.CURSOR, 9990, 10_001)


def test_a_next_page_resumes_where_the_last_one_stopped() -> None:
    seek = plan("$skip=20", state={"id": 42})
    assert (seek.paging, seek.after, seek.skip) == (Paging.SEEK, 42, 0)  # skipped already
    ranges = plan(window=Window(size=700), state={"id": 42, "hi": 900, "w": 600})
    assert (ranges.paging, ranges.after, ranges.ranges) == (Paging.RANGES, 42,
                                                           RangePlan(900, 600))
    offsets = plan("$orderby=price", state={"o": 500})
    assert (offsets.paging, offsets.skip, offsets.count_first) == (Paging.OFFSET, 500, False)


def test_a_plan_says_in_a_few_words_how_it_pages() -> None:
    assert plan().summary == "seek; 500 per call"
    assert plan("$skip=20&$top=10").summary == "seek; 10 per call; after match 20"
    assert plan(state={"id": 42}).summary == "seek; 500 per call; after $id 42"
    assert plan("$orderby=price&$skip=30").summary == "offset; 500 per call; from offset 30"
    assert plan("$orderby=price").counted(20_000).summary == "cursor; 500 per call"


def test_fields_are_what_the_entities_and_the_order_need() -> None:
    assert plan().fields is None  # every property: every field, from a shorter query
    assert plan(names=("Id", "title")).fields == ["$id", "title"]
    # The residual's properties are read too, and the sort keys.
    residual = plan("$filter=contains(memo,'x')&$orderby=price", names=("Id", "title"))
    assert residual.fields == ["$id", "title", "memo", "price"]


@pytest.mark.parametrize(("query", "status"), [
    ("$orderby=memo", 501),  # Kintone cannot sort by multi-line text
    ("$orderby=tags", 400),  # not a primitive property
    ("$orderby=nothing", 400),
    ("$filter=nothing eq 1", 400),
])
def test_what_cannot_be_read_is_refused_before_any_call(query: str, status: int) -> None:
    with pytest.raises(ODataError) as refused:
        plan(query)
    assert refused.value.status == status
