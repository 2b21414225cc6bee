"""Process-management actions, comments, files and idempotent POSTs."""

from __future__ import annotations

import pytest
import requests

from tests.writes.conftest import call, error, ok

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"},
    "docs": {"type": "FILE", "code": "docs", "label": "Docs"},
}


def _state(name: str, index: int, *users: str) -> dict:
    entities = [{"entity": {"type": "USER", "code": u}, "includeSubs": False} for u in users]
    return {"name": name, "index": str(index), "assignee": {"type": "ONE", "entities": entities}}


PROCESS = {
    "enable": True,
    "states": {"Open": _state("Open", 0), "Doing": _state("Doing", 1, "alice", "bob"),
               "Done": _state("Done", 2)},
    "actions": [{"name": "Start", "from": "Open", "to": "Doing", "filterCond": ""},
                {"name": "Finish", "from": "Doing", "to": "Done", "filterCond": ""}],
}
SET = "Tickets"


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, name="Tickets", process=PROCESS)[0]


@pytest.fixture(scope="module")
def gw(start_writer, app):
    return start_writer([app])


@pytest.fixture()
def ticket(gw) -> dict:
    return ok(call(gw, "POST", SET, {"title": "t"}), 201)


def test_status_actions_and_assignees(gw, ticket):
    url = f"{SET}({ticket['Id']})"
    response = call(gw, "POST", f"{url}/Kintone.UpdateStatus",
                    {"Action": "Start", "Assignee": "alice"},
                    headers={"If-Match": ticket["@odata.etag"]})
    assert response.status_code == 204 and response.headers["ETag"] == 'W/"3"'
    entity = ok(call(gw, "GET", url))
    assert entity["Status"] == "Doing" and entity["Assignee"][0]["Code"] == "alice"
    response = call(gw, "POST", f"{url}/Kintone.SetAssignees", {"Assignees": [{"Code": "bob"}]})
    assert response.status_code == 204
    assert ok(call(gw, "GET", url))["Assignee"][0]["Code"] == "bob"
    assert error(call(gw, "POST", f"{url}/Kintone.UpdateStatus", {"Action": "Start"}), 400)
    assert error(call(gw, "POST", f"{url}/Kintone.UpdateStatus", {"Action": "Finish"},
                      headers={"If-Match": 'W/"1"'}), 412)
    assert error(call(gw, "POST", f"{url}/Kintone.UpdateStatus", {}), 400)["target"] == "Action"
    assert error(call(gw, "PATCH", url, {"Status": "Done"}), 400)["target"] == "Status"


def test_actions_in_an_atomicity_group(gw, ticket):
    url = f"{SET}({ticket['Id']})"

    def group(*requests: tuple[str, dict]) -> list[dict]:
        body = {"requests": [{"id": str(n), "method": "POST", "url": f"{url}/{action}",
                              "body": params, "atomicityGroup": "g"}
                             for n, (action, params) in enumerate(requests)]}
        return ok(call(gw, "POST", "$batch", body))["responses"]

    responses = group(("Kintone.UpdateStatus", {"Action": "Start", "Assignee": "bob"}),
                      ("Kintone.SetAssignees", {"Assignees": ["alice"]}))
    assert [r["status"] for r in responses] == [204, 204]
    entity = ok(call(gw, "GET", url))
    assert (entity["Status"], entity["Assignee"][0]["Code"]) == ("Doing", "alice")
    # Only alice may finish: the whole group is refused, the assignees stay.
    responses = group(("Kintone.SetAssignees", {"Assignees": ["bob"]}),
                      ("Kintone.UpdateStatus", {"Action": "Finish"}))
    assert [r["status"] for r in responses] == [424, 403]
    assert ok(call(gw, "GET", url))["Assignee"][0]["Code"] == "alice"


def test_comments_added_and_deleted(gw, app, ticket):
    response = call(gw, "POST", "Comments", {"AppId": app, "RecordId": ticket["Id"],
                                             "Text": "Looks good", "Mentions": [
                                                 {"Code": "alice", "Type": "USER"}]})
    comment = ok(response, 201)
    assert comment["Text"].strip().endswith("Looks good") and comment["CreatorCode"] == "admin"
    assert comment["Mentions"] == [{"Code": "alice", "Type": "USER"}]
    key = f"AppId={app},RecordId={ticket['Id']},Id={comment['Id']}"
    assert response.headers["Location"] == gw.url(f"Comments({key})")
    assert call(gw, "DELETE", f"Comments({key})").status_code == 204
    assert error(call(gw, "DELETE", f"Comments({key})"), 404)
    assert error(call(gw, "POST", "Comments", {"AppId": app, "RecordId": ticket["Id"]}),
                 400)["target"] == "Text"
    assert error(call(gw, "PATCH", f"Comments({key})", {"Text": "x"}), 405)


def test_files_uploaded_and_downloaded(gw, admin, app, ticket):
    url = f"{SET}({ticket['Id']})/docs"
    for name, content in (("a.txt", b"first file"), ("報告.pdf", b"%PDF-1.4 second")):
        response = call(gw, "POST", url, data=content, headers={
            "Content-Type": "application/pdf" if name.endswith("pdf") else "text/plain",
            "Content-Disposition": f"attachment; filename*=UTF-8''{requests.utils.quote(name)}"})
        added = ok(response, 201)
        assert added["Name"] == name and added["Size"] == len(content)
    assert response.headers["Location"] == gw.url(f"{url}/1/$value")
    files = ok(call(gw, "GET", f"{SET}({ticket['Id']})"))["docs"]
    assert [f["Name"] for f in files] == ["a.txt", "報告.pdf"]
    download = call(gw, "GET", f"{url}/1/$value")
    assert download.status_code == 200 and download.content == b"%PDF-1.4 second"
    assert download.headers["Content-Type"].startswith("application/pdf")
    assert call(gw, "GET", f"{url}/0/$value").content == b"first file"
    assert error(call(gw, "GET", f"{url}/2/$value"), 404)
    assert error(call(gw, "POST", f"{SET}({ticket['Id']})/title", data=b"x",
                      headers={"Slug": "x.txt"}), 400)
    assert error(call(gw, "POST", url, data=b"no name"), 400)


def test_an_idempotent_post_is_replayed_not_repeated(gw, admin, app):
    headers = {"Idempotency-Key": "create-once"}
    first = call(gw, "POST", SET, {"title": "once"}, headers=headers)
    created = ok(first, 201)
    again = call(gw, "POST", SET, {"title": "once"}, headers=headers)
    assert ok(again, 201) == created and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    query = 'title = "once"'
    records = admin.ok("GET", "records", params={"app": app, "query": query})["records"]
    assert len(records) == 1
    assert error(call(gw, "POST", SET, {"title": "other"}, headers=headers),
                 422)["code"] == "IdempotencyKeyReused"
