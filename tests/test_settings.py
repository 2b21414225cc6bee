"""Settings: the INI file, environment overrides, secrets and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import AuthScheme, Secret, SettingsError, load_settings

EXAMPLE = Path(__file__).resolve().parent.parent / "settings.cfg.example"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.cfg"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, **env: str):
    return load_settings(write(tmp_path, text), env=env)


PASSWORD = "[kintone]\nUrl = https://example.cybozu.com/\nUser = alice\nPassword = s3cret\n"


def test_the_example_file_is_valid_and_documents_the_defaults():
    settings = load_settings(EXAMPLE, env={"KINTONE_USER_PASSWORD": "from-env"})
    k = settings.kintone
    assert k.url == "https://example.cybozu.com"
    assert k.auth_scheme is AuthScheme.PASSWORD
    assert (k.user, k.password.reveal()) == ("integration-user", "from-env")
    assert (k.timeout, k.connect_timeout, k.max_concurrent_requests) == (60, 10, 10)
    assert k.apps == () and k.guest_space_ids == () and k.verify_server
    g = settings.gateway
    assert (g.page_size, g.schema_cache_ttl, g.host, g.port, g.public_url) == (
        2000, 300, "127.0.0.1", 8080, None)
    assert g.expand_page_size == 100


@pytest.mark.parametrize("value", ["0", "501", "many"])
def test_the_expand_page_size_is_bounded(tmp_path, value):
    settings = load(tmp_path, f"{PASSWORD}[gateway]\nExpandPageSize = 7\n")
    assert settings.gateway.expand_page_size == 7
    with pytest.raises(SettingsError, match="ExpandPageSize"):
        load(tmp_path, f"{PASSWORD}[gateway]\nExpandPageSize = {value}\n")


def test_environment_variables_override_the_file(tmp_path):
    settings = load(tmp_path, PASSWORD, KINTONE_PASSWORD="other", GATEWAY_PORT="9000")
    assert settings.kintone.password.reveal() == "other"
    assert settings.gateway.port == 9000


def test_everything_may_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no settings.cfg here
    settings = load_settings(env={"KINTONE_URL": "http://localhost:8000",
                                  "KINTONE_APITOKENS": "7:abc"})
    assert settings.kintone.auth_scheme is AuthScheme.API_TOKEN
    assert settings.kintone.api_tokens[7].reveal() == "abc"


def test_env_value_form_names_a_variable_and_its_absence_is_an_error(tmp_path):
    text = PASSWORD.replace("s3cret", "env:PW")
    assert load(tmp_path, text, PW="x").kintone.password.reveal() == "x"
    with pytest.raises(SettingsError, match=r"\[kintone\] Password: environment variable PW"):
        load(tmp_path, text)


def test_secrets_never_show_in_reprs(tmp_path):
    settings = load(tmp_path, PASSWORD + "BasicAuthUser = b\nBasicAuthPassword = basic-pw\n")
    assert "s3cret" not in repr(settings) and "basic-pw" not in repr(settings)
    assert str(Secret("x")) == "********"


def test_keys_are_case_insensitive_and_scheme_is_inferred(tmp_path):
    settings = load(tmp_path, "[KINTONE]\nURL = https://e.kintone.com\nuser = a\npassword = b\n")
    assert settings.kintone.auth_scheme is AuthScheme.PASSWORD


@pytest.mark.parametrize(("text", "message"), [
    ("[kintone]\nUser = a\nPassword = b\n", r"\[kintone\] Url: is required"),
    ("[kintone]\nUrl = ftp://x\nUser = a\nPassword = b\n", r"Url: 'ftp://x' is not an http"),
    ("[kintone]\nUrl = https://u:p@x\nUser = a\nPassword = b\n", "must not contain credentials"),
    ("[kintone]\nUrl = https://x\n", r"AuthScheme: is required"),
    ("[kintone]\nUrl = https://x\nAuthScheme = Kerberos\n", "'Kerberos' is not one of"),
    ("[kintone]\nUrl = https://x\nAuthScheme = password\nUser = a\n",
     r"Password: is required with AuthScheme=Password"),
    ("[kintone]\nUrl = https://x\nAuthScheme = APIToken\n", r"APITokens: is required"),
    ("[kintone]\nUrl = https://x\nAuthScheme = OAuth\n", r"OAuthAccessToken: is required"),
    ("[kintone]\nUrl = https://x\nAPITokens = 1:a,1:b\n", "app 1 has two tokens"),
    (PASSWORD + "BasicAuthUser = u\n", "BasicAuthUser and BasicAuthPassword go together"),
    ("[kintone]\nUrl = https://x\nOAuthAccessToken = t\nBasicAuthUser = u\n"
     "BasicAuthPassword = p\n", "cannot be combined with OAuth"),
    (PASSWORD + "GuestSpaceId = 0\n", r"GuestSpaceId: '0' is not a positive integer"),
    (PASSWORD + "GuestSpaceId = 3, x\n", r"GuestSpaceId: 'x' is not a positive integer"),
    (PASSWORD + "Timeout = soon\n", r"Timeout: 'soon' is not a number"),
    (PASSWORD + "MaxConcurrentRequests = 500\n", r"out of range \(1 to 100\)"),
    (PASSWORD + "SSLClientCert = /nonexistent.pem\n", "SSLClientCert: no such file"),
    (PASSWORD + "SSLClientCertKey = /nonexistent.key\n", "SSLClientCertKey: no such file"),
    (PASSWORD + "[gateway]\nPort = 0\n", r"\[gateway\] Port: 0 is out of range"),
    (PASSWORD + "[gateway]\nPublicURL = /odata\n", "PublicURL"),
    (PASSWORD + "Url = https://again\n", "already exists"),  # duplicate key in the file
])
def test_invalid_settings_are_reported_by_section_and_key(tmp_path, text, message):
    with pytest.raises(SettingsError, match=message):
        load(tmp_path, text)


def test_a_bad_token_item_is_reported_without_its_value(tmp_path):
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, "[kintone]\nUrl = https://x\nAPITokens = 1:ok,secret-token-value\n")
    assert "item 2" in str(caught.value) and "secret-token-value" not in str(caught.value)


def test_tokens_apps_guest_space_and_certificates(tmp_path):
    cert, key = tmp_path / "c.pem", tmp_path / "c.key"
    cert.write_text("x")
    key.write_text("y")
    settings = load(tmp_path, f"""[kintone]
Url = https://x.cybozu.com
AuthScheme = apitoken
APITokens = 12 : tok12, 13:tok13
GuestSpaceId = 5, 9,5
Apps = 12, SALES ,, 13
SSLClientCert = {cert}
SSLClientCertKey = {key}
SSLServerCert = *
""")
    k = settings.kintone
    assert {app: t.reveal() for app, t in k.api_tokens.items()} == {12: "tok12", 13: "tok13"}
    assert k.apps == (12, "SALES", 13)
    assert k.guest_space_ids == (5, 9)
    assert (k.ssl_client_cert, k.ssl_client_cert_key) == (str(cert), str(key))
    assert not k.verify_server


def test_unknown_sections_are_kept_for_their_owners(tmp_path):
    settings = load(tmp_path, PASSWORD + "[cors]\nAllowOrigins = https://a, https://b\n",
                    CORS_MAXAGE="60")
    cors = settings.section("CORS")
    assert cors.get_list("AllowOrigins") == ("https://a", "https://b")
    assert cors.get_int("MaxAge", 3600, minimum=0, maximum=86400) == 60
    assert settings.section("users").get("Anything") is None


def test_an_explicit_path_must_exist(tmp_path):
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings(tmp_path / "missing.cfg", env={})
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings(env={"GATEWAY_SETTINGS": str(tmp_path / "missing.cfg")})
