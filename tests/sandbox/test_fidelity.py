"""Behaviours the sandbox answers as real Kintone does, recorded by a test suite whose authors
ran it against a real tenant (SonicGarden/kintone-emulator, see gateway/sandbox/README.md), in
Japanese and English: the language comes from the user's setting, else ``Accept-Language``,
else the tenant's default."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import requests

from gateway.sandbox import Sandbox, SandboxServer
from gateway.sandbox.state import SandboxConfig
from tests.conftest import ADMIN
from tests.kintone_http import Kintone, error_of

JA, EN = {"Accept-Language": "ja"}, {"Accept-Language": "en"}
REQUIRED = {"ja": "必須です。", "en": "Required field."}
AT_LEAST_ONE = {"ja": "最小でも1以上です。", "en": "must be greater than or equal to 1"}
NOT_INTEGER = {"ja": "整数でなければなりません。", "en": "must be an integer"}  # our wording
WA01 = {
    "ja": "ユーザーのパスワード認証に失敗しました。「X-Cybozu-Authorization」ヘッダーの値が正しく"
          "ありません。",
    "en": "Password authentication failed. The value in http header of X-Cybozu-Authorization "
          "is not valid.",
}
TITLE = {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}


@pytest.fixture(scope="module")
def ja_tenant() -> Iterator[SandboxServer]:
    """A tenant whose default language is Japanese (system fields: 作成者, レコード番号 ...)."""
    sandbox = Sandbox(config=SandboxConfig(language="ja"))
    sandbox.directory.add_user(*ADMIN, "管理者")
    with SandboxServer(sandbox).start() as server:
        yield server


@pytest.fixture(scope="module")
def kenji(server, sandbox) -> Kintone:
    """A user of the (English) session tenant whose own language is Japanese."""
    sandbox.directory.add_user("kenji", "kenji-password", "Kenji", language="ja")
    return Kintone.with_password(server.url, "kenji", "kenji-password")


@pytest.fixture(scope="module")
def mary(ja_tenant) -> Kintone:
    """A user of the Japanese tenant whose own language is English."""
    requests.post(f"{ja_tenant.url}/__sandbox/users", timeout=30, json={
        "login": "mary", "password": "mary-password", "language": "en"}).raise_for_status()
    return Kintone.with_password(ja_tenant.url, "mary", "mary-password")


@pytest.fixture(scope="module")
def speakers(server, ja_tenant, kenji, mary) -> list[tuple[str, Kintone, dict]]:
    """(language, client, headers): each way a language is chosen, for both languages."""
    admin = Kintone.with_password(server.url, *ADMIN)
    ja_admin = Kintone.with_password(ja_tenant.url, *ADMIN)
    return [
        ("ja", admin, JA), ("en", admin, EN),  # Accept-Language
        ("ja", kenji, EN), ("en", mary, JA),  # the user's setting wins over Accept-Language
        ("ja", ja_admin, {}), ("en", admin, {}),  # the tenant's default
        ("en", ja_admin, EN),
    ]


PARAMETER_ERRORS = [
    ("records", {}, "app", REQUIRED),
    ("records", {"app": ""}, "app", REQUIRED),
    ("records", {"app": "0"}, "app", AT_LEAST_ONE),
    ("records", {"app": "abc"}, "app", NOT_INTEGER),
    ("app/form/fields", {}, "app", REQUIRED),
    ("app/form/layout", {}, "app", REQUIRED),
    ("app/status", {}, "app", REQUIRED),
    ("file", {}, "fileKey", REQUIRED),
    ("space", {}, "id", REQUIRED),
]


@pytest.mark.parametrize(("api", "params", "key", "text"), PARAMETER_ERRORS)
def test_parameter_errors_speak_the_callers_language(speakers, api, params, key, text):
    for lang, client, headers in speakers:
        response = client.get(api, params, headers=headers)
        assert error_of(response) == (400, "CB_VA01"), response.text
        assert response.json()["errors"] == {key: {"messages": [text[lang]]}}, (lang, headers)


@pytest.fixture(scope="module")
def apps(server, ja_tenant) -> dict[str, int]:
    """An app with a record in each tenant, by base URL."""
    made = {}
    for url in (server.url, ja_tenant.url):
        admin = Kintone.with_password(url, *ADMIN)
        made[url] = admin.make_app({"title": TITLE})
        admin.ok("POST", "record", {"app": made[url], "record": {}})
    return made


DELETE_IDS = {"ja": ["必須です。", "一度に1件から100件までのレコードを削除できます。"],
              "en": ["Between 1 and 100 records can be deleted at one time.", "Required field."]}
ORDER = {"ja": "Enum値のいずれかでなければなりません。", "en": "must be one of the enum value"}


def test_parameter_errors_of_an_app_that_exists(speakers, apps):
    for lang, client, headers in speakers:
        app = apps[client.base_url]
        for method, api, params, key, messages in (
                ("GET", "record", {"app": app}, "id", [REQUIRED[lang]]),
                ("GET", "app/status", {"app": -1}, "app", [AT_LEAST_ONE[lang]]),
                ("DELETE", "records", {"app": app}, "ids", DELETE_IDS[lang]),
                ("GET", "record/comments", {"app": app, "record": 1, "order": "wrong"}, "order",
                 [ORDER[lang]])):
            response = client.request(method, api, params=params, headers=headers)
            assert error_of(response) == (400, "CB_VA01"), response.text
            assert response.json()["errors"] == {key: {"messages": messages}}, (api, lang)


def test_accept_language_any_means_the_tenants_default(server, ja_tenant):
    for url, lang in ((server.url, "en"), (ja_tenant.url, "ja")):
        client = Kintone.with_password(url, *ADMIN)
        response = client.get("records", {}, headers={"Accept-Language": "*"})
        assert response.json()["errors"]["app"]["messages"] == [REQUIRED[lang]]
        q_values = client.get("records", {}, headers={"Accept-Language": "en,ja;q=0.9"})
        assert q_values.json()["errors"]["app"]["messages"] == [REQUIRED["en"]]


def test_parameter_errors_inside_a_bulk_request_too(speakers):
    for lang, client, headers in speakers:
        response = client.post("bulkRequest", {"requests": [
            {"method": "POST", "api": "/k/v1/record.json", "payload": {"record": {}}}]},
            headers=headers)
        assert response.status_code == 400
        [result] = [r for r in response.json()["results"] if r]
        assert result["errors"] == {"app": {"messages": [REQUIRED[lang]]}}, (lang, headers)


def test_password_failure_text(server, ja_tenant):
    """Before the user is known: ``Accept-Language``, else the tenant's default."""
    wrong = {"X-Cybozu-Authorization": base64.b64encode(b"admin:wrong").decode()}
    for lang, url, headers in (("ja", server.url, JA), ("en", ja_tenant.url, EN),
                               ("ja", ja_tenant.url, {}), ("en", server.url, {})):
        response = requests.get(f"{url}/k/v1/apps.json", headers={**wrong, **headers},
                                timeout=30)
        assert error_of(response) == (401, "CB_WA01")
        assert response.json()["message"] == WA01[lang], (lang, headers)


@pytest.mark.parametrize(("tenant", "creator"), [("en", "Created_by"), ("ja", "作成者")])
def test_a_state_without_assignee_is_given_the_records_creator(server, ja_tenant, tenant,
                                                                creator):
    admin = Kintone.with_password((server if tenant == "en" else ja_tenant).url, *ADMIN)
    app = admin.make_app({"title": TITLE})
    admin.ok("PUT", "preview/app/status", {"app": app, "enable": True, "states": {
        "Open": {"name": "Open", "index": "0"},
        "Done": {"name": "Done", "index": "1", "assignee": {"type": "ALL", "entities": []}}},
        "actions": [{"name": "Finish", "from": "Open", "to": "Done"}]})
    states = admin.ok("GET", "preview/app/status", params={"app": app})["states"]
    assert states["Open"]["assignee"] == {"type": "ONE", "entities": [
        {"entity": {"type": "FIELD_ENTITY", "code": creator}, "includeSubs": False}]}
    assert states["Done"]["assignee"] == {"type": "ALL", "entities": []}  # later states may


FIRST_STATE = {
    "ja": ("最初のステータスの作業者は1人でなければなりません。",
           "最初のステータスの作業者には、レコードを作成したユーザーのみを設定できます。"),
    "en": ("The assignee of the first status must be one user.",
           "The assignee of the first status can only be the user who created the record."),
}


def test_the_first_state_refuses_all_and_the_creator_entity(speakers):
    creator = {"entity": {"type": "CREATOR", "code": None}, "includeSubs": False}
    for lang, client, headers in speakers:
        app = client.make_app({"title": TITLE})
        for assignee, key, text in (
                ({"type": "ALL", "entities": []}, "type", FIRST_STATE[lang][0]),
                ({"type": "ANY", "entities": []}, "type", FIRST_STATE[lang][0]),
                ({"type": "ONE", "entities": [creator]}, "entities[0].entity.type",
                 FIRST_STATE[lang][1])):
            response = client.put("preview/app/status", {"app": app, "enable": True, "states": {
                "Open": {"name": "Open", "index": "0", "assignee": assignee}}, "actions": []},
                headers=headers)
            assert error_of(response) == (400, "CB_VA01")
            assert response.json()["errors"] == {
                f"states.Open.assignee.{key}": {"messages": [text]}}, (lang, headers)


LINK_TOO_SHORT = {"ja": ["2文字より長くなければなりません。", "URLの形式が正しくありません。"],
                  "en": ["Enter more than 2 characters.", "Invalid URL format."]}


def test_a_link_shorter_than_min_length(speakers):
    link = {"type": "LINK", "code": "link", "label": "Link", "minLength": "3",
            "protocol": "WEB"}
    for lang, client, headers in speakers:
        app = client.make_app({"link": link})
        response = client.post("record", {"app": app, "record": {"link": {"value": "ab"}}},
                               headers=headers)
        assert error_of(response) == (400, "CB_VA01")
        assert response.json()["errors"] == {
            "record.link.value": {"messages": LINK_TOO_SHORT[lang]}}, (lang, headers)


@pytest.mark.parametrize("tenant", ["en", "ja"])
def test_settings_left_out_get_kintone_defaults(server, ja_tenant, tenant):
    admin = Kintone.with_password((server if tenant == "en" else ja_tenant).url, *ADMIN)
    source = admin.make_app({"title": TITLE})
    options = {"B": {"label": "B", "index": "1"}, "A": {"label": "A", "index": "0"}}
    app = admin.make_app({
        "radio": {"type": "RADIO_BUTTON", "code": "radio", "label": "Radio", "options": options},
        "kept": {"type": "RADIO_BUTTON", "code": "kept", "label": "Kept", "options": options,
                 "required": False, "defaultValue": "B"},
        "file": {"type": "FILE", "code": "file", "label": "File"},
        "pick": {"type": "SINGLE_LINE_TEXT", "code": "pick", "label": "Pick", "lookup": {
            "relatedApp": {"app": source}, "relatedKeyField": "title", "fieldMappings": []}},
        "related": {"type": "REFERENCE_TABLE", "code": "related", "label": "Related",
                    "referenceTable": {"relatedApp": {"app": source},
                                       "condition": {"field": "pick", "relatedField": "title"},
                                       "displayFields": ["title"]}},
    })
    props = admin.ok("GET", "app/form/fields", params={"app": app})["properties"]
    assert (props["radio"]["required"], props["radio"]["defaultValue"]) == (True, "A")
    assert (props["kept"]["required"], props["kept"]["defaultValue"]) == (False, "B")
    assert props["file"]["thumbnailSize"] == "50"
    number = "Record_number" if tenant == "en" else "レコード番号"
    assert props["pick"]["lookup"]["sort"] == f"{number} desc"
    assert props["related"]["referenceTable"]["sort"] == f"{number} desc"
    added = admin.ok("POST", "record", {"app": app, "record": {}})
    record = admin.ok("GET", "record", params={"app": app, "id": added["id"]})["record"]
    assert (record["radio"]["value"], record["kept"]["value"]) == ("A", "B")
