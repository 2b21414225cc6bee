"""$metadata, the service document and $oas (typed, dynamic, OpenAPI 3, with the token in the
URL) carry a strong ETag and Cache-Control, answer 304 while unchanged, change when an app's form
does, and differ between users whose rights differ."""

from __future__ import annotations

import pytest
import requests

from tests.gateway.conftest import TOKEN_IN_URL
from tests.security.narrow import users

FIELDS = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
RIGHTS = {"narrow": "GET:CachedA", "twin": "GET:CachedA", "wide": "GET:*"}
DOCUMENTS = ("$metadata", "$metadata?$format=json", "", "$oas", "$oas?version=3",
             "$oas?dynamic=true")


@pytest.fixture(scope="module")
def cached(start_gateway, make_app):
    first, _ = make_app(FIELDS, name="CachedA")
    second, _ = make_app(FIELDS, name="CachedB")
    sections, headers = users(RIGHTS, TOKEN_IN_URL)
    # Schema TTL 0: each request sees the form as it is, so an unchanged form must still 304.
    return (start_gateway([first, second], sections=sections, schema_cache_ttl=0), headers,
            second)


def get(url: str, headers: dict, tag: str | None = None) -> requests.Response:
    conditional = {"If-None-Match": tag} if tag else {}
    return requests.get(url, headers={**headers, **conditional}, timeout=60)


@pytest.mark.parametrize("path", DOCUMENTS)
def test_an_unchanged_document_answers_304(cached, path):
    gw, who, _ = cached
    first = get(gw.url(path), who["wide"])
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"') and len(tag) > 10  # strong
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = get(gw.url(path), who["wide"], tag)
    assert again.status_code == 304 and not again.content
    assert again.headers["ETag"] == tag and again.headers["Cache-Control"] == "private, no-cache"
    assert get(gw.url(path), who["wide"], '"stale"').status_code == 200


def test_a_document_with_the_token_in_its_url_is_not_stored_but_revalidates(cached):
    gw, who, _ = cached
    token = who["wide"]["X-Authtoken"]
    url = gw.url(f"@{token}/$oas")
    first = requests.get(url, timeout=60)
    assert first.status_code == 200 and f"@{token}" in first.json()["basePath"]
    assert first.headers["Cache-Control"] == "no-store"
    again = get(url, {}, first.headers["ETag"])
    assert again.status_code == 304 and not again.content
    plain = get(gw.url("$oas"), who["wide"])
    assert plain.headers["ETag"] != first.headers["ETag"]  # its basePath differs


def test_users_with_other_rights_get_other_etags(cached):
    gw, who, _ = cached
    for path in ("$metadata", "", "$oas", "$oas?version=3"):
        tags = {name: get(gw.url(path), headers).headers["ETag"] for name, headers in who.items()}
        assert tags["narrow"] == tags["twin"] != tags["wide"], path
        refused = get(gw.url(path), who["narrow"], tags["wide"])
        assert refused.status_code == 200 and "CachedB" not in refused.text, path


def test_a_changed_form_changes_the_etag(cached, admin):
    gw, who, app = cached
    before = {path: get(gw.url(path), who["wide"]).headers["ETag"] for path in DOCUMENTS}
    admin.ok("POST", "preview/app/form/fields", {"app": app, "properties": {
        "added_later": {"type": "NUMBER", "code": "added_later", "label": "Added later"}}})
    admin.ok("POST", "preview/app/deploy", {"apps": [{"app": app}]})
    for path in ("$metadata", "$oas", "$oas?version=3"):
        changed = get(gw.url(path), who["wide"], before[path])
        assert changed.status_code == 200 and changed.headers["ETag"] != before[path], path
        assert "added_later" in changed.text, path
    # The service document and the dynamic document do not name fields: still the same.
    for path in ("", "$oas?dynamic=true"):
        assert get(gw.url(path), who["wide"], before[path]).status_code == 304, path

