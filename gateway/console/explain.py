"""Query explain: what the gateway does with an entity set, a ``$filter`` and an ``$orderby`` -
the Kintone query it pushes down, whether rows are still checked one by one, how it pages, how
many Kintone calls a first page costs, and that page's first rows.

It plans with the same functions the reads use (``plan_filter``, the record sets' read plan)
and reads the rows through the same ``Reader``, so it cannot drift from what a client gets.
"""

from __future__ import annotations

import math
from contextlib import closing
from dataclasses import dataclass
from itertools import islice
from typing import Any

from ..kintone import query as kq
from ..kintone.paging import MAX_PAGE
from ..model import Model
from ..odata.options import parse_options
from ..odata.translate import FilterPlan, plan_filter
from ..service.pages import Window
from ..service.read_plan import MAX_OFFSET, Paging, ReadPlan, RecordQuery
from ..service.reads import CollectionQuery
from ..service.records import Scan
from .context import Console

FIRST_ROWS = 5


@dataclass(frozen=True)
class Explained:
    entity_set: str
    kind: str
    query: str | None  # None: the set is not read with a Kintone record query
    residual: bool
    matching: int | None  # records the pushed condition matches
    paging: str
    calls: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]


def explain(c: Console, model: Model, name: str, filter_text: str, orderby_text: str
            ) -> Explained:
    """Raises ``ODataError`` for a bad set name, filter or order, as the API would."""
    args = [(key, value) for key, value in (("$filter", filter_text),
                                            ("$orderby", orderby_text)) if value.strip()]
    options = parse_options(args)
    entity_set = model.entity_set(name)
    plan = (plan_filter(options.filter, entity_set) if options.filter is not None
            else FilterPlan("", None))
    query, matching, paging, calls = None, None, "read whole, filtered in the gateway", "1"
    page_size = c.settings.gateway.page_size
    if entity_set.kind == "records":
        records = RecordQuery.of(entity_set, options, c.gateway.client.settings)
        query = records.text
        matching = Scan(c.gateway.client, records).total()
        first = records.plan(Window(size=page_size)).counted(matching)
        paging, calls = _records_paging(first, matching, page_size)
    elif entity_set.kind == "subtable":
        query = kq.where(plan.condition)
        paging = "the parent records by $id (seek), each row checked in the gateway"
        calls = "one per 500 parent records read"
    query_options = parse_options([*args, ("$top", str(FIRST_ROWS))])
    page = c.gateway.reader.page(model, CollectionQuery(entity_set, query_options, FIRST_ROWS,
                                                        "console-explain"))
    with closing(page):
        rows = tuple(islice(iter(page), FIRST_ROWS))
    columns = tuple(p.name for p in entity_set.entity_type.properties
                    if p.row_type is None)[:8]
    return Explained(entity_set.name, entity_set.kind, query, plan.residual is not None,
                     matching, paging, calls, columns, rows)


def _records_paging(first: ReadPlan, matching: int, page_size: int) -> tuple[str, str]:
    """The paging strategy of the first page of ``page_size``, and its Kintone calls."""
    wanted = min(matching, page_size)
    if first.residual is not None:
        # Rows the residual rejects are read too: up to every record the condition matches.
        calls = (f"1 to {1 + max(1, math.ceil(matching / MAX_PAGE))} "
                 "(rows failing the residual are read and dropped)")
    else:
        calls = str(1 + max(1, math.ceil(wanted / MAX_PAGE)))  # the count, then the pages
    if first.paging is Paging.SEEK:
        return (f"seek by $id: '... and $id > last order by $id limit {first.batch}' per call",
                calls)
    if first.paging is Paging.RANGES:
        return (f"seek by $id in disjoint $id ranges, up to {first.query.parallel} calls at "
                f"once: '... and $id > s and $id <= e order by $id limit {first.batch}'", calls)
    if first.paging is Paging.OFFSET:
        return f"offset paging ({matching} matches, within Kintone's {MAX_OFFSET:,})", calls
    return ("a Kintone cursor (more matches than Kintone's offset limit; one of the domain's "
            "10 cursors while it is read)", calls)
