"""Rights that cannot be sidestepped: an upsert that creates needs POST, actions and file
uploads that change a record need PATCH, comments need rights on their app's set."""

from __future__ import annotations

import pytest
import requests

from tests.security.narrow import users
from tests.triggers.test_webhooks import PROCESS
from tests.writes.conftest import call, error, ok

CUSTOMER = {"code": {"type": "SINGLE_LINE_TEXT", "code": "code", "label": "Code",
                     "unique": True},
            "name": {"type": "SINGLE_LINE_TEXT", "code": "name", "label": "Name"}}
TICKET = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
          "docs": {"type": "FILE", "code": "docs", "label": "Docs"}}
RIGHTS = {"putter": "GET,PUT:RCustomers",
          "poster": "GET,POST:RTickets",
          "commenter": "GET,POST,DELETE:Comments,RCustomers"}


@pytest.fixture(scope="module")
def apps(make_app) -> tuple[int, int]:
    return (make_app(CUSTOMER, [{"code": {"value": "C-1"}}], name="RCustomers")[0],
            make_app(TICKET, [{"title": {"value": "t"}}], name="RTickets", process=PROCESS)[0])


@pytest.fixture(scope="module")
def gw_and_users(start_writer, apps):
    sections, headers = users(RIGHTS)
    return start_writer(list(apps), sections=sections), headers


def as_user(gw, who: dict, method: str, path: str, body=None, *, headers: dict | None = None,
            **kwargs) -> requests.Response:
    return call(gw, method, path, body, headers={**(headers or {}), **who}, **kwargs)


def test_an_upsert_that_may_create_needs_post(gw_and_users, admin, apps):
    gw, who = gw_and_users
    new = as_user(gw, who["putter"], "PATCH", "RCustomers(code='C-new')", {"name": "x"})
    assert "POST on RCustomers" in error(new, 403)["message"]
    insert_only = as_user(gw, who["putter"], "PATCH", "RCustomers(code='C-new')", {"name": "x"},
                          headers={"If-None-Match": "*"})
    assert error(insert_only, 403)
    assert admin.ok("GET", "records", params={"app": apps[0], "query": 'code = "C-new"'}
                    )["records"] == []
    update = as_user(gw, who["putter"], "PATCH", "RCustomers(code='C-1')", {"name": "y"},
                     headers={"If-Match": "*"})
    assert update.status_code == 204, update.text
    assert ok(call(gw, "PATCH", "RCustomers(code='C-new')", {"name": "x"}), 201)


def test_actions_and_file_uploads_need_patch(gw_and_users, admin, apps):
    gw, who = gw_and_users
    ticket = ok(call(gw, "GET", "RTickets"))["value"][0]
    url = f"RTickets({ticket['Id']})"
    for action, body in (("Kintone.UpdateStatus", {"Action": "Start", "Assignee": "admin"}),
                         ("Kintone.SetAssignees", {"Assignees": ["admin"]})):
        refused = error(as_user(gw, who["poster"], "POST", f"{url}/{action}", body), 403)
        assert "PATCH on RTickets" in refused["message"]
    upload = as_user(gw, who["poster"], "POST", f"{url}/docs", data=b"x", headers={
        "Content-Type": "text/plain", "Content-Disposition": "attachment; filename=a.txt"})
    assert "PATCH on RTickets" in error(upload, 403)["message"]
    after = ok(call(gw, "GET", url))
    assert after["Status"] == "Open" and after["docs"] == []
    assert after["@odata.etag"] == ticket["@odata.etag"]
    assert ok(as_user(gw, who["poster"], "POST", "RTickets", {"title": "new"}), 201)


def test_comments_need_rights_on_their_app(gw_and_users, admin, apps):
    gw, who = gw_and_users
    customers, tickets = apps
    ticket = ok(call(gw, "GET", "RTickets"))["value"][0]["Id"]
    customer = ok(call(gw, "GET", "RCustomers"))["value"][0]["Id"]
    theirs = ok(call(gw, "POST", "Comments", {"AppId": tickets, "RecordId": ticket,
                                              "Text": "internal"}), 201)
    read = as_user(gw, who["commenter"], "GET", f"Comments?$filter=AppId%20eq%20{tickets}")
    assert "GET on RTickets" in error(read, 403)["message"]
    key = f"AppId={tickets},RecordId={ticket},Id={theirs['Id']}"
    assert error(as_user(gw, who["commenter"], "GET", f"Comments({key})"), 403)
    post = as_user(gw, who["commenter"], "POST", "Comments",
                   {"AppId": tickets, "RecordId": ticket, "Text": "hi"})
    assert "POST on RTickets" in error(post, 403)["message"]
    assert error(as_user(gw, who["commenter"], "DELETE", f"Comments({key})"), 403)
    mine = ok(as_user(gw, who["commenter"], "POST", "Comments",
                      {"AppId": customers, "RecordId": customer, "Text": "hello"}), 201)
    listed = ok(as_user(gw, who["commenter"], "GET",
                        f"Comments?$filter=AppId%20eq%20{customers}"))["value"]
    assert [c["Id"] for c in listed] == [mine["Id"]]
    comments = admin.ok("GET", "record/comments", params={"app": tickets, "record": ticket})
    assert [c["text"].strip() for c in comments["comments"]] == ["internal"]
