"""The customization API over HTTP: ``app/customize.json``, its preview GET and PUT, deploy."""

from __future__ import annotations

import pytest
import requests

from tests.kintone_http import Kintone, error_of
from tests.sandbox.test_guest_space import make_space

TEXT = {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}
SCRIPT = b"kintone.events.on('app.record.index.show', () => {});\n"
EMPTY = {"scope": "ALL", "desktop": {"js": [], "css": []}, "mobile": {"js": [], "css": []}}


def upload(client: Kintone, name: str, content: bytes) -> str:
    response = requests.post(client.url("file"), files={"file": (name, content, "text/javascript")},
                             headers=client.headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["fileKey"]


def deploy(client: Kintone, app: int) -> None:
    client.ok("POST", "preview/app/deploy", {"apps": [{"app": app}]})


def customization(client: Kintone, app: int, *, preview: bool = False) -> dict:
    return client.ok("GET", "preview/app/customize" if preview else "app/customize",
                     params={"app": app})


@pytest.fixture
def app(admin) -> int:
    return admin.make_app(TEXT)


def test_a_new_app_has_no_customization(admin, app):
    assert customization(admin, app) == {**EMPTY, "revision": "3"}


def test_put_uploads_then_deploy_applies(admin, app):
    key = upload(admin, "desktop.js", SCRIPT)
    before = customization(admin, app, preview=True)["revision"]
    answer = admin.ok("PUT", "preview/app/customize", {
        "app": app, "scope": "ADMIN",
        "desktop": {"js": [{"type": "URL", "url": "https://cdn.example.com/lib.js"},
                           {"type": "FILE", "file": {"fileKey": key}}]},
    })
    assert int(answer["revision"]) == int(before) + 1
    preview = customization(admin, app, preview=True)
    assert preview["scope"] == "ADMIN" and preview["mobile"] == EMPTY["mobile"]
    url, file = preview["desktop"]["js"]
    assert url == {"type": "URL", "url": "https://cdn.example.com/lib.js"}
    stored = file["file"]
    assert (file["type"], stored["name"], stored["size"]) == ("FILE", "desktop.js",
                                                            str(len(SCRIPT)))
    assert stored["fileKey"] != key  # the upload key is consumed; a download key replaces it
    assert customization(admin, app)["desktop"]["js"] == []  # not live before deploy

    deploy(admin, app)
    live = customization(admin, app)
    assert {k: live[k] for k in EMPTY} == {k: preview[k] for k in EMPTY}
    assert admin.get("file", {"fileKey": stored["fileKey"]}).content == SCRIPT

    # A PUT may send the stored file again (keeps it) and changes only what it sends.
    admin.ok("PUT", "preview/app/customize", {
        "app": app, "mobile": {"css": [{"type": "FILE", "file": {"fileKey": stored["fileKey"]}}]}})
    again = customization(admin, app, preview=True)
    assert again["desktop"] == preview["desktop"] and again["scope"] == "ADMIN"
    assert again["mobile"]["css"][0]["file"]["fileKey"] == stored["fileKey"]


def test_bad_customizations_are_cb_va01(admin, app):
    key = upload(admin, "once.js", SCRIPT)
    admin.ok("PUT", "preview/app/customize",
             {"app": app, "desktop": {"js": [{"type": "FILE", "file": {"fileKey": key}}]}})
    response = admin.put("preview/app/customize", {
        "app": app, "scope": "SOME",
        "desktop": {"js": [{"type": "FILE", "file": {"fileKey": key}},  # already used
                           {"type": "URL", "url": "http://insecure.example.com/a.js"},
                           {"type": "LINK"}]},
        "mobile": {"css": [{"type": "URL", "url": f"https://x.example.com/{n}.css"}
                           for n in range(31)]},
    })
    assert error_of(response) == (400, "CB_VA01")
    assert set(response.json()["errors"]) == {
        "scope", "desktop.js[0].file.fileKey", "desktop.js[1].url", "desktop.js[2].type",
        "mobile.css"}
    assert customization(admin, app, preview=True)["scope"] == "ALL"  # nothing changed
    stale = int(customization(admin, app, preview=True)["revision"]) - 1
    assert error_of(admin.put("preview/app/customize",
                              {"app": app, "scope": "NONE", "revision": stale})) == (
        409, "GAIA_CO03")
    assert error_of(admin.put("preview/app/customize", {"app": app, "desktop": {"js": "x"}})) == (
        400, "CB_IJ01")


def test_customization_needs_the_manage_right(admin, server, app):
    tokens = [requests.post(f"{server.url}/__sandbox/apps/{app}/tokens", json={"rights": r},
                            timeout=30).json()["token"] for r in (["view"], ["view", "manage"])]
    viewer, manager = (Kintone.with_tokens(server.url, t) for t in tokens)
    assert error_of(viewer.get("app/customize", {"app": app})) == (403, "GAIA_NO01")
    assert error_of(viewer.put("preview/app/customize", {"app": app, "scope": "NONE"})) == (
        403, "GAIA_NO01")
    manager.ok("PUT", "preview/app/customize", {"app": app, "scope": "NONE"})
    assert customization(manager, app, preview=True)["scope"] == "NONE"


def test_guest_space_paths(admin, sandbox, server):
    space = make_space(sandbox, guest=True)
    guest = Kintone(server.url, admin.headers, guest_space=space)
    app = guest.make_app(TEXT, space=space)
    key = upload(guest, "guest.css", b"body { color: red; }")
    guest.ok("PUT", "preview/app/customize",
             {"app": app, "desktop": {"css": [{"type": "FILE", "file": {"fileKey": key}}]}})
    deploy(guest, app)
    css = customization(guest, app)["desktop"]["css"]
    assert [c["file"]["name"] for c in css] == ["guest.css"]
    assert error_of(admin.get("app/customize", {"app": app})) == (400, "GAIA_IL23")
    assert guest.get("file", {"fileKey": css[0]["file"]["fileKey"]}).content == (
        b"body { color: red; }")
