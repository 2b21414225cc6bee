"""The demo data, seeded in-process and read back over HTTP as a client of the demo would."""

from __future__ import annotations

import pytest

from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.demo import (
    CUSTOMER_COUNT,
    DEMO_LOGIN,
    DEMO_PASSWORD,
    ORDER_COUNT,
    TICKET_COUNT,
    DemoInfo,
    demo_info,
    seed_demo,
)
from tests.kintone_http import Kintone, error_of


@pytest.fixture(scope="module")
def demo():
    sandbox = Sandbox()
    info = seed_demo(sandbox)
    server = SandboxServer(sandbox).start()
    yield sandbox, server, info
    server.stop()


@pytest.fixture(scope="module")
def info(demo) -> DemoInfo:
    return demo[2]


@pytest.fixture(scope="module")
def user(demo) -> Kintone:
    return Kintone.with_password(demo[1].url, DEMO_LOGIN, DEMO_PASSWORD)


def token_client(demo, code: str) -> tuple[Kintone, int]:
    """A client holding the demo API token of one app, and that app's id."""
    _, server, info = demo
    app = info.apps[code]
    return Kintone.with_tokens(server.url, info.tokens[app]), app


def records(client: Kintone, app: int, query: str = "", **params) -> dict:
    return client.ok("GET", "records", params={"app": app, "query": query, **params})


def test_every_app_has_its_records_and_a_working_token(demo):
    expected = {"CUSTOMERS": CUSTOMER_COUNT, "ORDERS": ORDER_COUNT, "SUPPORT": TICKET_COUNT}
    for code, count in expected.items():
        client, app = token_client(demo, code)
        found = records(client, app, "limit 1", totalCount="true")
        assert found["totalCount"] == str(count), code


def test_a_token_opens_only_its_own_app(demo, info):
    client, _ = token_client(demo, "CUSTOMERS")
    response = client.get("records", {"app": info.apps["ORDERS"]})
    assert error_of(response) == (403, "GAIA_NO01")


def test_the_demo_user_signs_in_with_the_documented_password(user, info):
    found = records(user, info.apps["CUSTOMERS"], 'customer_code = "C-00042"')["records"]
    assert [r["customer_code"]["value"] for r in found] == ["C-00042"]
    customer = found[0]
    assert customer["industry"]["type"] == "DROP_DOWN"
    assert customer["contacts"]["type"] == "SUBTABLE" and customer["contacts"]["value"]
    assert customer["account_manager"]["value"][0]["code"] in ("sato", "suzuki")


def test_orders_copy_the_company_name_through_the_lookup(user, info):
    order = records(user, info.apps["ORDERS"], "order by $id asc limit 1")["records"][0]
    code = order["customer_code"]["value"]
    customer = records(user, info.apps["CUSTOMERS"], f'customer_code = "{code}"')["records"][0]
    assert order["company_name"]["value"] == customer["company_name"]["value"] != ""
    quantity, price = int(order["quantity"]["value"]), int(order["unit_price"]["value"])
    assert order["total"] == {"type": "CALC", "value": str(quantity * price)}


def test_orders_are_spread_over_the_process_states(user, info):
    app = info.apps["ORDERS"]
    counts = {
        state: int(records(user, app, f'Status in ("{state}") limit 1',
                           totalCount="true")["totalCount"])
        for state in ("New", "Approved", "Shipped", "Closed")
    }
    assert sum(counts.values()) == ORDER_COUNT and min(counts.values()) > 0
    new = records(user, app, 'Status in ("New") limit 1')["records"][0]
    assert new["Assignee"]["value"] == [{"code": "yamamoto", "name": "Taro Yamamoto"}]
    assert new["$revision"]["value"] == "1"
    closed = records(user, app, 'Status in ("Closed") limit 1')["records"][0]
    assert closed["Assignee"]["value"] == []
    assert closed["$revision"]["value"] == "7"  # three actions, two revisions each


def test_support_tickets_use_japanese_field_codes(demo, info):
    client, app = token_client(demo, "SUPPORT")
    found = records(client, app, '優先度 in ("高") order by レコード番号 asc limit 3')["records"]
    assert len(found) == 3
    ticket = found[0]
    assert {"件名", "内容", "優先度", "顧客コード", "会社名", "対応者", "作成者"} <= set(ticket)
    assert ticket["優先度"]["value"] == "高"
    assert ticket["会社名"]["value"]  # copied from the customers app by the lookup


def test_many_tickets_have_comments_some_with_mentions(user, info):
    app = info.apps["SUPPORT"]
    commented, mentioned = 0, []
    for rec in range(1, 41):
        page = user.ok("GET", "record/comments", params={"app": app, "record": rec})["comments"]
        commented += bool(page)
        mentioned += [c for c in page if c["mentions"]]
    assert commented >= 15
    assert mentioned, "some comments mention users, organizations or groups"
    comment = mentioned[0]
    first_line = comment["text"].split("\n")[0]
    names = {"tanaka": "Ken Tanaka", "ito": "Alice Ito", "support": "Customer Support",
             "tier2": "Tier 2 support"}
    assert all(names[m["code"]] in first_line for m in comment["mentions"])


def test_attachments_download(demo, user, info):
    app = info.apps["SUPPORT"]
    ticket = user.ok("GET", "record", params={"app": app, "id": 1})["record"]
    files = {f["name"]: f for f in ticket["添付ファイル"]["value"]}
    assert set(files) == {"log-0.txt", "screenshot-0.png"}
    for name, prefix in (("log-0.txt", b"ticket 0\n"), ("screenshot-0.png", b"\x89PNG\r\n\x1a\n")):
        response = user.get("file", {"fileKey": files[name]["fileKey"]})
        assert response.status_code == 200
        assert response.content.startswith(prefix)
        assert str(len(response.content)) == files[name]["size"]
        assert response.headers["Content-Type"].startswith(files[name]["contentType"])


def test_demo_info_is_found_again_in_a_seeded_database(demo, info):
    sandbox, _, _ = demo
    again = demo_info(sandbox)
    assert again is not None
    assert (again.apps, again.tokens, again.login) == (info.apps, info.tokens, info.login)
    assert demo_info(Sandbox()) is None


def test_seeding_is_deterministic(demo, info):
    sandbox, _, _ = demo
    again = Sandbox()
    assert seed_demo(again).tokens == info.tokens

    def customers(sb: Sandbox) -> list:
        app = info.apps["CUSTOMERS"]
        return sb.db.conn.execute(
            "SELECT id, data FROM records WHERE app = ? ORDER BY id", (app,)).fetchall()

    assert [tuple(r) for r in customers(again)] == [tuple(r) for r in customers(sandbox)]
