"""The static sets: Comments (per app and record, as the seed article's Power Automate flow
reads them), Apps and Fields."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import follow, values

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title", "required": True},
    "lines": {"type": "SUBTABLE", "code": "lines", "label": "Lines", "fields": {
        "item": {"type": "SINGLE_LINE_TEXT", "code": "item", "label": "Item"}}},
}


@pytest.fixture(scope="module")
def apps(make_app, admin):
    first, _ = make_app(FIELDS, [values(title=f"r{n}") for n in range(4)], code="NOTES",
                        name="Notes")
    second, _ = make_app({}, [{}], name="Bare app")
    comments = {1: ["first on 1", "second on 1"], 3: [f"c{n} on 3" for n in range(12)]}
    for record, texts in comments.items():
        for text in texts:
            mentions = [{"code": "alice", "type": "USER"}] if text == "first on 1" else []
            admin.ok("POST", "record/comment", {"app": first, "record": record, "comment": {
                "text": text, "mentions": mentions}})
    return first, second


@pytest.fixture(scope="module")
def gw(start_gateway, apps):
    return start_gateway(list(apps), page_size=5)


def texts(pages: list[dict]) -> list[str]:
    """The comments' texts without the mentions Kintone writes in front."""
    return [comment["Text"].split("\n")[-1].strip() for page in pages
            for comment in page["value"]]


def test_comments_of_one_record_as_the_seed_articles_flow_asks(gw, apps):
    app = apps[0]
    body = gw.json("Comments", params={"$filter": f"AppId eq {app} and RecordId eq 1"})
    assert texts([body]) == ["first on 1", "second on 1"]
    comment = body["value"][0]
    assert (comment["AppId"], comment["RecordId"], comment["Id"]) == (app, 1, 1)
    assert comment["CreatorCode"] == "admin" and comment["CreatedAt"].endswith("Z")
    assert comment["Mentions"] == [{"Code": "alice", "Type": "USER"}]


def test_comments_of_an_app_page_through_records(gw, apps):
    pages = follow(gw.get("Comments", params={"$filter": f"AppId eq {apps[0]}"}))
    assert texts(pages) == ["first on 1", "second on 1", *(f"c{n} on 3" for n in range(12))]
    assert [len(page["value"]) for page in pages] == [5, 5, 4]


def test_comments_with_a_residual_filter_and_count(gw, apps):
    body = gw.json("Comments", params={
        "$filter": f"AppId eq {apps[0]} and contains(Text,'1 on')", "$count": "true"})
    assert texts([body]) == ["c1 on 3", "c11 on 3"]
    assert body["@odata.count"] == 2
    count = gw.get("Comments/$count", params={"$filter": f"RecordId eq 3 and AppId eq {apps[0]}"})
    assert count.text == "12"


def test_comment_by_key(gw, apps):
    body = gw.json(f"Comments(AppId={apps[0]},RecordId=3,Id=2)")
    assert texts([{"value": [body]}]) == ["c1 on 3"]
    assert gw.get(f"Comments(AppId={apps[0]},RecordId=3,Id=99)").status_code == 404
    assert gw.get(f"Comments(AppId={apps[0]},RecordId=3)").status_code == 400


def test_comments_need_an_exposed_app_in_the_filter(gw):
    for query in ({"$filter": "RecordId eq 1"}, {"$filter": "AppId gt 1"},
                  {"$filter": "AppId eq 1 or RecordId eq 1"}):
        response = gw.get("Comments", params=query)
        assert response.status_code == 400, query
        assert "AppId eq" in response.json()["error"]["message"]
    response = gw.get("Comments", params={"$filter": "AppId eq 99999"})
    assert response.status_code == 400
    assert "not exposed" in response.json()["error"]["message"]


def test_apps(gw, apps):
    body = gw.json("Apps")
    assert [app["Id"] for app in body["value"]] == list(apps)
    notes = body["value"][0]
    assert (notes["Code"], notes["Name"]) == ("NOTES", "Notes")
    assert notes["CreatorCode"] == "Administrator"
    filtered = gw.json("Apps", params={"$filter": "startswith(Name,'Bare')",
                                       "$select": "Id,Name"})
    assert filtered["value"] == [{"Id": apps[1], "Name": "Bare app"}]
    assert gw.json(f"Apps({apps[1]})")["Name"] == "Bare app"
    assert gw.get("Apps(99999)").status_code == 404
    ordered = gw.json("Apps", params={"$orderby": "Name desc", "$select": "Name"})
    assert [app["Name"] for app in ordered["value"]] == ["Notes", "Bare app"]


def test_fields(gw, apps):
    pages = follow(gw.get("Fields", params={
        "$filter": f"AppId eq {apps[0]} and Type ne 'STATUS'", "$count": "true"}))
    codes = {row["Code"]: row for page in pages for row in page["value"]}
    assert {page["@odata.count"] for page in pages} == {len(codes)}
    assert codes["title"]["Required"] is True and codes["title"]["EntitySet"] == "NOTES"
    assert codes["item"]["Subtable"] == "lines"
    assert codes["item"]["EntitySet"] == "NOTES_lines"
    one = gw.json(f"Fields(AppId={apps[0]},Code='title')")
    assert one["Label"] == "Title"
    assert gw.get(f"Fields(AppId={apps[0]},Code='nope')").status_code == 404
