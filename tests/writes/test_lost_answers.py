"""Writes whose answer Kintone sent but the gateway never got: repeated only when harmless,
checked by key when possible, reported as unknown otherwise; never done twice."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.kintone import KintoneUnavailable
from tests.gateway.conftest import FAST_RETRY, RecordingClient, kintone_settings
from tests.writes.conftest import call, error, ok

FIELDS = {
    "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku", "label": "SKU", "unique": True},
    "note": {"type": "SINGLE_LINE_TEXT", "code": "note", "label": "Note"},
}
SET = "Lossy"


class LosingClient(RecordingClient):
    """Loses the answer of the next ``lose`` writes, after Kintone applied them."""

    lose = 0

    def _lost(self, result: Any) -> Any:
        if self.lose:
            self.lose -= 1
            raise KintoneUnavailable(503, None, "No answer from Kintone (ConnectionError).")
        return result

    def add_records(self, *args: Any, **kwargs: Any):
        return self._lost(super().add_records(*args, **kwargs))

    def update_records(self, *args: Any, **kwargs: Any):
        return self._lost(super().update_records(*args, **kwargs))

    def delete_records(self, *args: Any, **kwargs: Any):
        return self._lost(super().delete_records(*args, **kwargs))


@pytest.fixture(scope="module")
def app(make_app) -> int:
    return make_app(FIELDS, name="Lossy")[0]


@pytest.fixture(scope="module")
def gw(start_writer, server, app):
    settings = kintone_settings(server.url, (app,))
    return start_writer([app], client=LosingClient(settings, retry=FAST_RETRY))


def skus(admin, app: int, prefix: str) -> list[str]:
    query = f'sku like "{prefix}" order by $id asc limit 500'
    records = admin.ok("GET", "records", params={"app": app, "query": query})["records"]
    return [r["sku"]["value"] for r in records if r["sku"]["value"].startswith(prefix)]


def test_a_bulk_insert_by_key_is_checked_not_repeated(gw, admin, app):
    gw.client.lose = 1
    body = [{"sku": f"K-{n}"} for n in range(150)]
    result = ok(call(gw, "POST", f"{SET}/$bulk?mode=insert&key=sku", body))
    assert (result["inserted"], result["failed"]) == (150, 0)
    assert all(r["id"] for r in result["results"])
    assert sorted(skus(admin, app, "K-")) == sorted(row["sku"] for row in body)


def test_a_bulk_insert_without_key_reports_the_unknown(gw, admin, app):
    gw.client.lose = 1
    result = ok(call(gw, "POST", f"{SET}/$bulk?mode=insert",
                     [{"sku": "N-1"}, {"sku": "N-2"}]))
    assert [r["error"]["code"] for r in result["results"]] == ["WriteOutcomeUnknown"] * 2
    assert [r["status"] for r in result["results"]] == [502, 502]
    assert len(skus(admin, app, "N-")) == 2  # written once, and the caller knows to check


def test_a_bulk_upsert_is_sent_again(gw, admin, app):
    gw.client.lose = 1
    result = ok(call(gw, "POST", f"{SET}/$bulk?mode=upsert&key=sku",
                     [{"sku": "P-1", "note": "a"}, {"sku": "P-2", "note": "b"}]))
    assert result["failed"] == 0
    assert skus(admin, app, "P-") == ["P-1", "P-2"]


def test_a_create_is_never_repeated_even_with_an_idempotency_key(gw, admin, app):
    gw.client.lose = 1
    headers = {"Idempotency-Key": "lost-create"}
    first = call(gw, "POST", SET, {"sku": "C-1"}, headers=headers)
    assert error(first, 502)["code"] == "WriteOutcomeUnknown"
    again = call(gw, "POST", SET, {"sku": "C-1"}, headers=headers)
    assert again.status_code == 502 and again.headers["Idempotent-Replayed"] == "true"
    assert skus(admin, app, "C-") == ["C-1"]


def test_an_update_and_a_delete_are_sent_again(gw, admin, app):
    created = ok(call(gw, "POST", SET, {"sku": "D-1"}), 201)
    url = f"{SET}({created['Id']})"
    gw.client.lose = 1
    assert call(gw, "PATCH", url, {"note": "twice is fine"}).status_code == 204
    gw.client.lose = 1
    assert call(gw, "DELETE", url).status_code == 204
    assert skus(admin, app, "D-") == []


def test_a_guarded_update_is_not_sent_again(gw, admin, app):
    created = ok(call(gw, "POST", SET, {"sku": "G-1"}), 201)
    gw.client.lose = 1
    response = call(gw, "PATCH", f"{SET}({created['Id']})", {"note": "x"},
                    headers={"If-Match": created["@odata.etag"]})
    assert error(response, 502)["code"] == "WriteOutcomeUnknown"
