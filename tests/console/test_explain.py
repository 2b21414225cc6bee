"""The console's query explain shows the plan the API runs: the Kintone query, the paging."""

from __future__ import annotations

import html

from tests.console.conftest import Demo


def explained(demo: Demo, **query: str) -> str:
    session, _ = demo.logged_in()
    response = session.get(demo.console("explain"), params=query, timeout=60)
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


def test_an_exact_filter_is_read_by_seeking_on_id(demo: Demo):
    page = explained(demo, set="CUSTOMERS", filter="annual_revenue gt 0")
    assert '<code id="kintone-query">annual_revenue > "0" order by $id asc</code>' in page
    assert "none: Kintone applies the whole $filter" in page
    # A page of 2,000 ([gateway] PageSize): four pages of 500, read at once.
    assert ("seek by $id in disjoint $id ranges, up to 4 calls at once: '... and $id > s and "
            "$id <= e order by $id limit 500'") in page


def test_a_descending_read_seeks_one_call_after_another(demo: Demo):
    page = explained(demo, set="CUSTOMERS", orderby="Id desc")
    assert '<code id="kintone-query">order by $id desc</code>' in page
    assert "seek by $id: '... and $id > last order by $id limit 500' per call" in page


def test_another_order_is_read_by_offsets_within_the_limit(demo: Demo):
    page = explained(demo, set="CUSTOMERS", filter="contains(company_name,'a')",
                     orderby="company_name desc")
    assert '<code id="kintone-query">order by company_name desc, $id asc</code>' in page
    assert "yes: part of the $filter is checked row by row" in page
    assert "offset paging (" in page
