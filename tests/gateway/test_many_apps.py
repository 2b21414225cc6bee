"""More exposed apps than Kintone's ``apps.json`` takes ids in one call (100)."""

from __future__ import annotations

from gateway.kintone import KintoneClient
from gateway.service import list_apps
from tests.gateway.conftest import kintone_settings

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}


def test_apps_configured_by_id_are_listed_a_hundred_at_a_time(server, make_app):
    ids = [make_app(FIELDS, name=f"Many {n}")[0] for n in range(101)]
    with KintoneClient(kintone_settings(server.url, tuple(reversed(ids)))) as client:
        assert [int(app["appId"]) for app in list_apps(client, client.settings)] == ids
