"""Reading any number of records or comments, page by page, in constant memory.

Kintone refuses offsets beyond 10,000, so records are never paged by offset:

* ordered by ``$id`` (or not ordered): seek, ``(<condition>) and $id > <last> order by $id asc
  limit N`` (``<`` for ``desc``), which also lets a reader resume after a known id;
* any other order: a server-side cursor, always released when the reader stops early (a domain
  has only 10 cursors, shared with every other integration). A full domain (429 GAIA_TM12) is
  retried with back-off by the transport.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from . import query as kq
from .client import KintoneClient
from .errors import KintoneError
from .models import Cursor, Record

log = logging.getLogger("gateway.kintone")

MAX_PAGE = 500
COMMENTS_PAGE = 10
ID = "$id"


def iter_records(client: KintoneClient, app: int, *, condition: str = "",
                 order_by: Sequence[tuple[str, str]] | None = None,
                 fields: Sequence[str] | None = None, page_size: int = MAX_PAGE,
                 start_after_id: int | None = None) -> Iterator[Record]:
    """Every record of ``app`` matching ``condition`` (a query without order/limit/offset),
    in ``order_by`` order (default ``$id asc``).

    ``start_after_id`` resumes an ``$id``-ordered read after that record.
    """
    if not 1 <= page_size <= MAX_PAGE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE}")
    keys = list(order_by or [(ID, "asc")])
    if len(keys) == 1 and keys[0][0] == ID:
        direction = keys[0][1].lower()
        if direction not in kq.DIRECTIONS:
            raise ValueError(f"{direction!r} is not a sort direction (asc or desc)")
        return _seek(client, app, condition, direction, fields, page_size, start_after_id)
    if start_after_id is not None:
        raise ValueError("start_after_id needs the records ordered by $id")
    query = f"{kq.where(condition)} {kq.order_by(keys)}".strip()
    return _by_cursor(client, app, query, fields, page_size)


def _seek(client: KintoneClient, app: int, condition: str, direction: str,
          fields: Sequence[str] | None, page_size: int, last: int | None) -> Iterator[Record]:
    # Seeking needs every record's $id, even when the caller did not ask for it.
    hide_id = fields is not None and ID not in fields
    wanted = [*fields, ID] if fields is not None and hide_id else fields
    comparison = ">" if direction == "asc" else "<"
    sort = kq.order_by([(ID, direction)])
    while True:
        bound = f"{ID} {comparison} {last}" if last is not None else ""
        query = f"{kq.where(condition, bound)} {sort} limit {page_size}".strip()
        records = client.get_records(app, query, wanted).records
        for record in records:
            last = int(record[ID]["value"])
            if hide_id:
                del record[ID]
            yield record
        if len(records) < page_size:
            return


def _by_cursor(client: KintoneClient, app: int, query: str, fields: Sequence[str] | None,
               page_size: int) -> Iterator[Record]:
    cursor = client.create_cursor(app, query, fields, page_size)
    exhausted = False
    try:
        while not exhausted:
            page = client.get_cursor(cursor)
            exhausted = not page.next  # Kintone released the cursor with its last page
            yield from page.records
    finally:
        if not exhausted:
            _release(client, cursor)


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
