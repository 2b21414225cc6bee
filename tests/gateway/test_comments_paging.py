"""Comments come back whole whatever the page size, with or without $count (a skiptoken once
mixed the total count into a comment's position and lost rows); unfiltered, Comments previews
the newest records' comments instead of failing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.sandbox.demo import DEMO_LOGIN, DEMO_PASSWORD
from gateway.service.static_sets import PREVIEW_RECORDS
from gateway.settings import Secret
from tests.gateway.conftest import follow, kintone_settings, values

PER_RECORD = [3, 0, 1, 12, 0, 2, 5, 11]  # comments on records 1..8 (Kintone pages by 10)


@pytest.fixture(scope="module")
def commented(start_gateway, make_app, admin):
    app, ids = make_app({}, [values() for _ in PER_RECORD], name="Commented")
    for record, count in zip(ids, PER_RECORD, strict=True):
        for n in range(count):
            admin.ok("POST", "record/comment", {"app": app, "record": record,
                                                "comment": {"text": f"{record}.{n}"}})
    expected = [f"{record}.{n}" for record, count in zip(ids, PER_RECORD, strict=True)
                for n in range(count)]
    return start_gateway([app], page_size=1000), app, expected


def read_all(gw, app: int, page_size: int, count: bool) -> tuple[list[str], list[int]]:
    params = {"$filter": f"AppId eq {app}"}
    if count:
        params["$count"] = "true"
    pages = follow(gw.get("Comments", params=params,
                          headers={"Prefer": f"odata.maxpagesize={page_size}"}))
    counts = [page["@odata.count"] for page in pages if "@odata.count" in page]
    return [c["Text"].strip() for page in pages for c in page["value"]], counts


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page_size=st.one_of(st.integers(1, 40), st.integers(1, 600)), count=st.booleans())
def test_every_comment_at_every_page_size(commented, page_size, count):
    gw, app, expected = commented
    texts, counts = read_all(gw, app, page_size, count)
    assert texts == expected
    assert counts == ([len(expected)] * len(counts) if count else [])
    assert (len(counts) >= 1) == count


def test_the_demo_support_app_at_page_size_100_with_count(start_gateway, demo_server):
    # Counting a whole app's comments reads every record's: more calls than the default cap.
    settings = replace(kintone_settings(demo_server.url), user=DEMO_LOGIN,
                       password=Secret(DEMO_PASSWORD))
    gw = start_gateway([], kintone=settings, max_calls_per_request=5000)
    app = gw.json("Apps", params={"$filter": "Code eq 'SUPPORT'"})["value"][0]["Id"]
    texts, counts = read_all(gw, app, 100, True)
    # The count is a separate full scan: every comment it saw must be on the pages.
    assert len(texts) == counts[0] > 1000


def test_unfiltered_comments_preview_the_newest_records_of_the_first_app(commented):
    gw, app, expected = commented
    gw.client.queries.clear()
    body = gw.json("Comments", params={"$count": "true"})
    newest = [record for record, count in enumerate(PER_RECORD, 1)][-PREVIEW_RECORDS:]
    wanted = [text for text in expected if int(text.split(".")[0]) in newest]
    assert [c["Text"].strip() for c in body["value"]] == wanted
    assert body["@odata.count"] == len(wanted) and "@odata.nextLink" not in body
    assert {c["AppId"] for c in body["value"]} == {app}
    assert gw.client.queries[0] == ("records", f"order by $id desc limit {PREVIEW_RECORDS}",
                                    ["$id"])


def test_the_navigator_previews_every_set_of_the_demo_without_an_error(demo):
    for entry in demo.json()["value"]:
        response = demo.get(entry["url"], params={"$top": "5"})
        assert response.status_code == 200, (entry["url"], response.text)
