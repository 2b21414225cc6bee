"""Reading any number of records or comments, page by page, in constant memory.

Kintone refuses offsets beyond 10,000, so records are never paged by offset:

* ordered by ``$id`` (or not ordered): seek, ``(<condition>) and $id > <last> order by $id asc
  limit N`` (``<`` for ``desc``), which also lets a reader resume after a known id;
* any other order: a server-side cursor, always released when the reader stops early (a domain
  has only 10 cursors, shared with every other integration). A full domain (429 GAIA_TM12) is
  retried with back-off by the transport. The client's ``cursors`` pool caps how many the
  gateway holds, in all and per user, and reclaims those of readers idle too long.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from functools import partial

from . import id_ranges, readahead
from . import query as kq
from .client import KintoneClient
from .errors import KintoneError
from .layout import RecordLayout
from .models import ID, Cursor, CursorPage, Record, RecordPage, record_id

log = logging.getLogger("gateway.kintone")

MAX_PAGE = 500
COMMENTS_PAGE = 10


def iter_records(client: KintoneClient, app: int, *, condition: str = "",
                 order_by: Sequence[tuple[str, str]] | None = None,
                 fields: Sequence[str] | None = None, page_size: int = MAX_PAGE,
                 start_after_id: int | None = None, read_ahead: bool = False,
                 wanted: int | None = None, layout: RecordLayout | None = None
                 ) -> Generator[Record, None, None]:
    """Every record of ``app`` matching ``condition`` (a query without order/limit/offset),
    in ``order_by`` order (default ``$id asc``).

    ``start_after_id`` resumes an ``$id``-ordered read after that record. ``read_ahead``
    fetches each next page in the background while the caller reads the current one (see
    ``readahead``), for callers that will read them: only until ``wanted`` records (None: all)
    were fetched, so that no call is made for a page the caller will not read.
    ``layout``: the records as its ``Row``s instead of dicts (typed ``Record`` all the same).
    """
    if not 1 <= page_size <= MAX_PAGE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE}")
    keys = list(order_by or [(ID, "asc")])
    if len(keys) == 1 and keys[0][0] == ID:
        direction = keys[0][1].lower()
        if direction not in kq.DIRECTIONS:
            raise ValueError(f"{direction!r} is not a sort direction (asc or desc)")
        seek = _Seek(client, app, condition, direction, fields, page_size, layout)
        return seek.records(start_after_id, read_ahead, wanted)
    if start_after_id is not None:
        raise ValueError("start_after_id needs the records ordered by $id")
    query = f"{kq.where(condition)} {kq.order_by(keys)}".strip()
    return _by_cursor(client, app, query, fields, page_size, read_ahead, layout)


@dataclass(frozen=True)
class _Seek:
    client: KintoneClient
    app: int
    condition: str
    direction: str
    fields: Sequence[str] | None
    page_size: int
    layout: RecordLayout | None = None

    @property
    def hides_id(self) -> bool:
        """Seeking needs every record's $id, even when the caller did not ask for it: a dict
        record loses it again (a row shows only its layout's fields anyway)."""
        return self.layout is None and self.fields is not None and ID not in self.fields

    def records(self, last: int | None, read_ahead: bool, wanted: int | None
                ) -> Generator[Record, None, None]:
        hide_id = self.hides_id
        fetched = 0

        def following(page: list) -> Callable[[], list] | None:
            nonlocal fetched
            fetched += len(page)
            return self._fetch(record_id(page[-1])) if len(page) == self.page_size else None

        def ahead(_: list) -> bool:
            return read_ahead and (wanted is None or fetched < wanted)

        with closing(readahead.pages(self._fetch(last)(), following, ahead)) as chain:
            for page in chain:
                for record in page:
                    if hide_id:
                        del record[ID]
                    yield record

    def _fetch(self, last: int | None) -> Callable[[], list]:
        """The call reading the page after the record ``last`` (None: the first page)."""
        comparison = ">" if self.direction == "asc" else "<"
        bound = f"{ID} {comparison} {last}" if last is not None else ""
        return lambda: self._page(bound, self.page_size).records

    def _page(self, bounds: str, limit: int, *, fields: Sequence[str] | None = None,
              total: bool = False) -> RecordPage:
        fields = self.fields if fields is None else fields
        asked = [*fields, ID] if fields is not None and ID not in fields else fields
        sort = kq.order_by([(ID, self.direction)])
        query = f"{kq.where(self.condition, bounds)} {sort} limit {limit}".strip()
        return self.client.get_records(self.app, query, asked, total_count=total,
                                       layout=self.layout)

    def between(self, after: int, upto: int | None, limit: int) -> list:
        """Up to ``limit`` records with ``after < $id <= upto`` (no ``upto``: no upper bound),
        in ascending order."""
        bounds = f"{ID} > {after}" + (f" and {ID} <= {upto}" if upto is not None else "")
        return self._page(bounds, limit).records

    def edge(self, after: int, direction: str) -> tuple[int | None, int]:
        """The id of the first record above ``after`` in ``direction`` (None: there is none),
        and how many records there are above ``after``."""
        edge = replace(self, direction=direction)
        page = edge._page(f"{ID} > {after}", 1, fields=[ID], total=direction == "asc")
        return (record_id(page.records[0]) if page.records else None), page.total_count or 0


def ranged_records(client: KintoneClient, app: int, *, condition: str = "",
                   fields: Sequence[str] | None = None, page_size: int = MAX_PAGE,
                   after: int | None = None, plan: id_ranges.RangePlan | None = None,
                   parallel: int = 1, wanted: int | None = None, then: int = 0,
                   layout: RecordLayout | None = None
                   ) -> Generator[tuple[Record, id_ranges.RangePlan], None, None]:
    """Every record matching ``condition`` above ``after``, in ascending ``$id`` order, read
    through up to ``parallel`` calls at once (see ``id_ranges``), each with the plan a next read
    resumes with (``plan``: skips planning). ``then``: records the next page of the read will
    want once this one served ``wanted`` (its first calls are started then, parked for it).
    ``layout``: the records as its ``Row``s."""
    seek = _Seek(client, app, condition, "asc", fields, page_size, layout)
    hide_id = seek.hides_id
    start = after or 0
    if plan is None:
        found = id_ranges.plan(partial(seek.edge, start), page_size)
        if found is None:
            return
        start, plan = found
    # What the reader's calls read, but where: ranges parked by one page for the next.
    key = (condition, None if fields is None else tuple(fields), page_size, layout)
    reader = id_ranges.RangedRead(seek.between, start, plan, ranges=parallel, batch=page_size,
                                  wanted=wanted, parked=client.parked, app=app, key=key,
                                  then=then)
    with closing(reader):
        for record in reader:
            current = reader.plan
            if hide_id:
                del record[ID]
            yield record, current


def _by_cursor(client: KintoneClient, app: int, query: str, fields: Sequence[str] | None,
               page_size: int, read_ahead: bool, layout: RecordLayout | None
               ) -> Generator[Record, None, None]:
    lease = client.cursors.lease()
    try:
        with lease.fetching():
            cursor = client.create_cursor(app, query, fields, page_size)
        lease.hold(lambda: _release(client, cursor))
        exhausted = False

        def fetch() -> CursorPage:
            nonlocal exhausted
            with lease.fetching():
                page = client.get_cursor(cursor, layout=layout)
            exhausted = exhausted or not page.next  # Kintone released it with its last page
            return page

        def following(page: CursorPage) -> Callable[[], CursorPage] | None:
            return fetch if page.next else None

        try:
            with closing(readahead.pages(fetch(), following, lambda _: read_ahead)) as chain:
                for page in chain:
                    yield from page.records
        finally:
            # After the page read ahead, if any, came in (closing waits for it): it may be the
            # last. A cursor reclaimed for idling was deleted already.
            if lease.give_back() and not exhausted:
                _release(client, cursor)
    finally:
        client.cursors.end(lease)


def _release(client: KintoneClient, cursor: Cursor) -> None:
    """Delete an abandoned cursor; failing that, Kintone drops it after 10 idle minutes."""
    try:
        client.delete_cursor(cursor)
    except KintoneError as error:
        log.warning("Could not delete Kintone cursor of app %d: %s", cursor.app, error)


def iter_comments(client: KintoneClient, app: int, record: int, *,
                  order: str = "desc") -> Iterator[dict]:
    """Every comment of a record, newest first (``order="asc"``: oldest first)."""
    offset = 0
    while True:
        page = client.get_comments(app, record, order=order, offset=offset,
                                   limit=COMMENTS_PAGE)
        yield from page.comments
        offset += len(page.comments)
        more = page.newer if order == "asc" else page.older
        if not more or not page.comments:
            return
