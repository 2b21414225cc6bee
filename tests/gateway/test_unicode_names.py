"""Japanese (and any Unicode) property names in $filter, $orderby, $select, keys and paths: the
demo's SUPPORT app, and an app whose field codes mix kanji, kana, ASCII, digits and ``_``."""

from __future__ import annotations

import pytest
import requests

from gateway.sandbox.demo import PRIORITIES
from tests.gateway.conftest import values

CODES = ("顧客コード2", "ｶﾅ_kana_3", "優先度_High", "担当＿者１", "_内部メモ", "サイズcm")


@pytest.fixture(scope="module")
def mixed(start_gateway, make_app):
    fields = {
        CODES[0]: {"type": "SINGLE_LINE_TEXT", "code": CODES[0], "label": "顧客",
                   "unique": True},
        CODES[1]: {"type": "SINGLE_LINE_TEXT", "code": CODES[1], "label": "カナ"},
        CODES[2]: {"type": "NUMBER", "code": CODES[2], "label": "優先度"},
        CODES[3]: {"type": "SINGLE_LINE_TEXT", "code": CODES[3], "label": "担当者"},
        CODES[4]: {"type": "SINGLE_LINE_TEXT", "code": CODES[4], "label": "メモ"},
        CODES[5]: {"type": "NUMBER", "code": CODES[5], "label": "サイズ"},
    }
    rows = [values(**{CODES[0]: f"C-{i}", CODES[1]: "ｱｲｳ" if i % 2 else "abc",
                      CODES[2]: str(i), CODES[3]: f"担当{i}", CODES[4]: "", CODES[5]: str(10 * i)})
            for i in range(1, 6)]
    app, ids = make_app(fields, rows, code="混在アプリ_1")
    return start_gateway([app]), ids


def test_the_demo_support_app_filters_sorts_and_selects_on_japanese_names(demo):
    body = demo.json("SUPPORT", params={
        "$filter": f"優先度 eq '{PRIORITIES[0]}' and 対応状況 ne null",
        "$orderby": "受付日時 desc,Id", "$select": "件名,優先度,受付日時", "$top": "20"})
    rows = body["value"]
    assert rows and all(row["優先度"] == PRIORITIES[0] for row in rows)
    assert set(rows[0]) >= {"件名", "優先度", "受付日時"} and "内容" not in rows[0]
    moments = [row["受付日時"] for row in rows if row["受付日時"]]
    assert moments == sorted(moments, reverse=True)
    everything = demo.json("SUPPORT", params={"$select": "Id,優先度", "$top": "1000"})["value"]
    assert len(rows) == min(20, sum(row["優先度"] == PRIORITIES[0] for row in everything))


def test_the_demo_support_app_reads_a_japanese_property_by_key(demo):
    first = demo.json("SUPPORT", params={"$top": "1", "$select": "Id,件名"})["value"][0]
    prop = demo.json(f"SUPPORT({first['Id']})/件名")
    assert prop["value"] == first["件名"]
    raw = demo.get(f"SUPPORT({first['Id']})/件名/$value")
    assert raw.status_code == 200 and raw.text == first["件名"]
    as_json = demo.get(f"SUPPORT({first['Id']})/件名/$value",
                       headers={"Accept": "application/json"})
    assert as_json.text == first["件名"]
    assert as_json.headers["Content-Type"].startswith("text/plain")


def test_mixed_codes_are_names_verbatim_in_every_option(mixed):
    gw, ids = mixed
    assert set(CODES) <= set(gw.json("混在アプリ_1")["value"][0])
    body = gw.json("混在アプリ_1", params={
        "$filter": f"{CODES[2]} ge 2 and {CODES[1]} eq 'ｱｲｳ' and startswith({CODES[3]},'担当')"
                   f" and {CODES[5]} lt 50 and {CODES[4]} eq null",
        "$orderby": f"{CODES[2]} desc", "$select": f"{CODES[0]},{CODES[2]}", "$count": "true"})
    assert [row[CODES[0]] for row in body["value"]] == ["C-3"]
    assert body["@odata.count"] == 1
    entity = gw.json(f"混在アプリ_1({ids[0]})", params={"$select": CODES[3]})
    assert entity[CODES[3]] == "担当1"
    assert gw.get(f"混在アプリ_1({ids[1]})/{CODES[5]}/$value").text == "20"
    assert gw.get("混在アプリ_1/$count", params={"$filter": f"{CODES[5]} gt 20"}).text == "3"


def test_a_name_longer_than_128_characters_is_refused(mixed):
    gw, _ = mixed
    response = gw.get("混在アプリ_1", params={"$filter": f"{'名' * 129} eq 1"})
    assert response.status_code == 400
    assert response.json()["error"]["target"] == "$filter"


def test_an_alternate_key_with_a_japanese_name(mixed):
    gw, _ = mixed
    url = gw.url(f"混在アプリ_1({CODES[0]}='C-9')")
    created = requests.patch(url, json={CODES[3]: "担当9"}, headers=gw.auth, timeout=30)
    assert created.status_code in (200, 201, 204), created.text
    found = gw.json("混在アプリ_1", params={"$filter": f"{CODES[0]} eq 'C-9'"})["value"]
    assert [row[CODES[3]] for row in found] == ["担当9"]
