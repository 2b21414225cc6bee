"""Reading record sets: $filter runs in Kintone (residuals in the gateway), $select becomes
Kintone's fields, $orderby/$top/$skip/$count, /$count, entities by key, URL conventions."""

from __future__ import annotations

import pytest
import requests

from tests.gateway.conftest import TOKEN_IN_URL, values

FIELDS = {
    "name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name"},
    "city": {"type": "SINGLE_LINE_TEXT", "code": "city", "label": "City"},
    "score": {"type": "NUMBER", "code": "score", "label": "Score"},
    "joined": {"type": "DATE", "code": "joined", "label": "Joined"},
}
PEOPLE = [
    ("Aiko", "Tokyo", "10", "2024-01-05"),
    ("Ben", "Osaka", "25", "2023-06-30"),
    ("Chie", "Tokyo", "7", "2024-03-01"),
    ('Dan "D" O\'Neil', "Kyoto", "31", ""),
    ("Eri+Fumi", "Tokyo", "", "2022-12-24"),
]


@pytest.fixture(scope="module")
def people(start_gateway, make_app):
    rows = [values(name=n, city=c, score=s, joined=j) for n, c, s, j in PEOPLE]
    app, _ = make_app(FIELDS, rows, code="PEOPLE")
    return start_gateway([app], sections=TOKEN_IN_URL)


def names(body: dict) -> list[str]:
    return [entity["name"] for entity in body["value"]]


def last_query(gw) -> str:
    return gw.client.queries[-1][1]


def test_an_exact_filter_runs_in_kintone(people):
    people.client.queries.clear()
    body = people.json("PEOPLE", params={"$filter": "score ge 10 and joined lt 2024-02-01"})
    assert names(body) == ["Aiko", "Ben"]
    assert last_query(people) == \
        '(score >= "10") and (joined < "2024-02-01") order by $id asc limit 500'


def test_a_residual_is_checked_in_the_gateway_after_kintone_narrowed(people):
    people.client.queries.clear()
    body = people.json("PEOPLE", params={"$filter": "city eq 'Tokyo' and contains(name,'i')"})
    assert names(body) == ["Aiko", "Chie", "Eri+Fumi"]
    assert 'city in ("Tokyo")' in last_query(people) or 'city = "Tokyo"' in last_query(people)


def test_literals_with_quotes_and_a_raw_plus(people):
    body = people.json("PEOPLE", params={"$filter": "name eq 'Dan \"D\" O''Neil'"})
    assert names(body) == ['Dan "D" O\'Neil']
    raw = requests.get(f"{people.url('PEOPLE')}?$filter=name%20eq%20'Eri%2BFumi'",
                       headers=people.auth, timeout=30)
    assert names(raw.json()) == ["Eri+Fumi"]


def test_option_names_with_an_encoded_dollar_or_none(people):
    for query in ("%24top=1", "$top=1", "top=1"):
        body = requests.get(f"{people.url('PEOPLE')}?{query}", headers=people.auth,
                            timeout=30).json()
        assert names(body) == ["Aiko"], query


def test_select_asks_kintone_only_for_what_is_needed(people):
    people.client.queries.clear()
    body = people.json("PEOPLE", params={"$select": "name", "$filter": "city eq 'Osaka'"})
    assert body["@odata.context"].endswith("$metadata#PEOPLE(name)")
    assert body["value"] == [{"@odata.etag": 'W/"1"', "name": "Ben"}]
    fields = people.client.queries[-1][2]
    assert sorted(fields) == ["$id", "$revision", "city", "name"]  # city for the residual


def test_orderby_several_keys_with_nulls(people):
    body = people.json("PEOPLE", params={"$orderby": "city desc,score", "$select": "name"})
    assert names(body) == ["Eri+Fumi", "Chie", "Aiko", "Ben", "Dan \"D\" O'Neil"]


def test_unsortable_or_unknown_orderby(people):
    people_memo = people.get("PEOPLE", params={"$orderby": "Created_by"})
    assert people_memo.status_code == 400
    assert people.get("PEOPLE", params={"$orderby": "nope"}).status_code == 400
    assert people.get("PEOPLE", params={"$orderby": "Created_by/Code"}).status_code == 501


def test_top_skip_and_count(people):
    body = people.json("PEOPLE", params={"$filter": "city eq 'Tokyo'", "$count": "true",
                                         "$skip": "1", "$top": "1"})
    assert body["@odata.count"] == 3
    assert names(body) == ["Chie"]
    assert people.json("PEOPLE", params={"$top": "0", "$count": "true"}) == {
        "@odata.context": f"{people.root}/$metadata#PEOPLE", "@odata.count": 5, "value": []}


def test_count_segment(people):
    response = people.get("PEOPLE/$count")
    assert response.text == "5" and response.headers["Content-Type"].startswith("text/plain")
    assert people.get("PEOPLE/$count", params={"$filter": "city eq 'Tokyo'"}).text == "3"
    assert people.get("PEOPLE/$count",
                      params={"$filter": "contains(name,'e')"}).text == "3"


def test_entity_by_key_and_its_404(people):
    body = people.json("PEOPLE(2)")
    assert body["@odata.context"] == f"{people.root}/$metadata#PEOPLE/$entity"
    assert body["name"] == "Ben"
    assert people.get("PEOPLE(99)").status_code == 404
    assert people.get("PEOPLE('x')").status_code == 400
    assert people.get("PEOPLE(2)/nope").status_code == 404


def test_metadata_levels(people):
    none = people.json("PEOPLE(1)", params={"$format": "application/json;odata.metadata=none"})
    assert "@odata.context" not in none and "@odata.etag" not in none
    full = people.get("PEOPLE", params={"$top": "1"},
                      headers={"Accept": "application/json;odata.metadata=full"}).json()
    entity = full["value"][0]
    assert entity["@odata.id"] == f"{people.root}/PEOPLE(1)"
    assert entity["@odata.type"] == "#Kintone.PEOPLE"


def test_the_authtoken_segment_is_accepted_and_kept_in_links(people):
    base = f"{people.root}/@{people.token}"
    body = requests.get(f"{base}/PEOPLE?$top=2", timeout=30).json()
    assert body["@odata.context"] == f"{base}/$metadata#PEOPLE"
    assert names(body) == ["Aiko", "Ben"]


def test_skip_past_the_end(people):
    assert people.json("PEOPLE", params={"$skip": "9"})["value"] == []
    assert people.json("PEOPLE", params={"$skip": "9", "$filter": "score gt 1"})["value"] == []
    assert people.json("PEOPLE", params={"$skip": "9", "$orderby": "name"})["value"] == []
