"""The console over plain HTTP: who may use it, its session cookie, CSRF, the login rate limit,
the users it manages (and their tokens against the OData API), and what Activity shows."""

from __future__ import annotations

import http.client
import logging
import os
import re
import stat
import time
from dataclasses import replace
from urllib.parse import urlencode, urlsplit

import requests

from gateway.triggers.context import EXTENSION as TRIGGERS
from gateway.triggers.store import Subscription
from tests.console.conftest import LOGIN_ATTEMPTS, Demo, serving, with_section

TOKEN = re.compile(r'<code id="new-token">([^<]+)</code>')


def issued_token(page: str) -> str:
    found = TOKEN.search(page)
    assert found, page
    return found.group(1)


def test_without_a_session_the_pages_send_to_the_login(demo: Demo):
    response = requests.get(demo.console("users"), allow_redirects=False, timeout=30)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/login")
    login = requests.get(demo.console("login"), timeout=30)
    assert login.status_code == 200
    csp = login.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp


def test_the_session_cookie_is_httponly_strict_and_scoped(demo: Demo):
    response = requests.post(demo.console("login"), data={"authtoken": demo.token},
                             allow_redirects=False, timeout=30)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP here; behind TLS it is Secure
    assert demo.token not in cookie


def test_a_non_admin_gets_403(demo: Demo):
    response = requests.post(demo.console("login"), data={"authtoken": demo.reader_token},
                             timeout=30)
    assert response.status_code == 403
    assert "not an admin" in response.text
    assert "Set-Cookie" not in response.headers


def test_a_wrong_token_gets_401(demo: Demo):
    response = requests.post(demo.console("login"), data={"authtoken": "nope"}, timeout=30)
    assert response.status_code == 401
    assert "not valid" in response.text


def test_a_change_without_the_csrf_token_or_from_another_site_is_refused(demo: Demo):
    session, csrf = demo.logged_in()
    missing = session.post(demo.console("users"), data={"name": "csrf-less"}, timeout=30)
    assert missing.status_code == 403
    assert "CSRF" in missing.text
    other_site = session.post(demo.console("users"), data={"name": "cross", "csrf": csrf},
                              headers={"Origin": "http://evil.example"}, timeout=30)
    assert other_site.status_code == 403
    page = session.get(demo.console("users"), timeout=30).text
    assert "csrf-less" not in page and "cross" not in page


def test_the_login_page_rate_limits_attempts(demo: Demo):
    """From an address of its own (127.0.0.2), so that the other tests' logins do not count."""
    parts = urlsplit(demo.url)

    def attempt(token: str) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30,
                                                source_address=("127.0.0.2", 0))
        connection.request("POST", "/console/login", body=urlencode({"authtoken": token}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    statuses = [attempt(f"wrong-{n}").status for n in range(LOGIN_ATTEMPTS)]
    assert statuses == [401] * LOGIN_ATTEMPTS
    refused = attempt("wrong-again")
    assert refused.status == 429
    assert int(refused.getheader("Retry-After")) > 0
    assert attempt(demo.token).status == 429  # not even the right token, for now


def test_users_added_rotated_restricted_and_revoked(demo: Demo, caplog):
    caplog.set_level(logging.INFO, logger="gateway.security")
    session, csrf = demo.logged_in()
    added = session.post(demo.console("users"),
                         data={"name": "powerbi", "rights": "GET:*", "csrf": csrf}, timeout=30)
    assert added.status_code == 201, added.text
    token = issued_token(added.text)
    assert token not in session.get(demo.console("users"), timeout=30).text  # shown once
    mode = stat.S_IMODE(os.stat(demo.users_file).st_mode)
    assert mode == 0o600
    assert "powerbi = hmac-sha256:" in demo.users_file.read_text()
    orders = demo.odata("ORDERS?$top=1")
    assert requests.get(orders, headers={"X-Authtoken": token}, timeout=30).status_code == 200

    rotated = session.post(demo.console("users/powerbi/rotate"), data={"csrf": csrf}, timeout=30)
    assert rotated.status_code == 200, rotated.text
    new_token = issued_token(rotated.text)
    assert requests.get(orders, headers={"X-Authtoken": token}, timeout=30).status_code == 401
    assert requests.get(orders, headers={"X-Authtoken": new_token}, timeout=30).status_code == 200

    changed = session.post(demo.console("users/powerbi/rights"),
                           data={"rights": "GET:SUPPORT", "csrf": csrf}, timeout=30)
    assert changed.status_code == 200, changed.text
    assert requests.get(orders, headers={"X-Authtoken": new_token}, timeout=30).status_code == 403
    support = demo.odata("SUPPORT?$top=1")
    assert requests.get(support, headers={"X-Authtoken": new_token},
                        timeout=30).status_code == 200

    bad = session.post(demo.console("users/powerbi/rights"),
                       data={"rights": "FLY:*", "csrf": csrf}, timeout=30)
    assert bad.status_code == 400 and "unknown method" in bad.text

    revoked = session.post(demo.console("users/powerbi/revoke"), data={"csrf": csrf}, timeout=30)
    assert revoked.status_code == 200, revoked.text
    assert "powerbi" not in demo.users_file.read_text()
    assert "Console: demo revoked user powerbi." in caplog.text  # who did what, in the log
    assert token not in caplog.text and new_token not in caplog.text
    assert requests.get(support, headers={"X-Authtoken": new_token},
                        timeout=30).status_code == 401


def test_users_of_the_settings_file_are_left_alone(demo: Demo):
    session, csrf = demo.logged_in()
    response = session.post(demo.console("users/demo/revoke"), data={"csrf": csrf}, timeout=30)
    assert response.status_code == 409
    assert "settings file" in response.text


def test_activity_shows_a_kintone_failure_with_its_code_and_request_id(demo: Demo):
    failed = requests.post(demo.odata("ORDERS"), json={"quantity": "0"},
                           headers={"X-Authtoken": demo.token}, timeout=30)
    assert failed.status_code == 400, failed.text
    request_id = failed.headers["X-Request-Id"]
    session, _ = demo.logged_in()
    page = session.get(demo.console("activity"), params={"status": "failed", "set": "ORDERS"},
                       timeout=30).text
    row = next((line for line in page.split("<tr") if request_id in line), None)
    assert row is not None, page
    assert "POST /api.rsc/ORDERS" in row and "400" in row
    assert "CB_VA01" in row
    succeeded = session.get(demo.console("activity"), params={"status": "refused"},
                            timeout=30).text
    assert request_id not in succeeded


def test_the_console_has_its_own_address_allowlist(demo: Demo):
    settings = with_section(demo.settings, "Console", {"allowedips": "10.0.0.1"})
    with serving(settings) as url:
        response = requests.get(f"{url}/console/login", timeout=30)
        assert response.status_code == 403
        assert "AllowedIPs" in response.text
        # The API itself is still open to this address.
        api = requests.get(f"{url}/api.rsc/", headers={"X-Authtoken": demo.token}, timeout=30)
        assert api.status_code == 200


def test_an_idle_session_ends(demo: Demo):
    settings = with_section(demo.settings, "Console", {"idletimeout": "1"})
    with serving(settings) as url:
        session = requests.Session()
        page = session.post(f"{url}/console/login", data={"authtoken": demo.token}, timeout=30)
        assert page.status_code == 200 and "Status" in page.text
        time.sleep(1.5)
        later = session.get(f"{url}/console/apps", allow_redirects=False, timeout=30)
        assert later.status_code == 302


def test_logging_out_clears_the_cookie(demo: Demo):
    session, csrf = demo.logged_in()
    response = session.post(demo.console("logout"), data={"csrf": csrf}, timeout=30)
    assert response.url.endswith("/console/login")
    assert "console_session" not in session.cookies
    assert session.get(demo.console("apps"), allow_redirects=False,
                       timeout=30).status_code == 302


def test_metrics_chart_the_last_minutes(demo: Demo):
    session, _ = demo.logged_in()
    for _ in range(3):
        assert requests.get(demo.odata("ORDERS?$top=1"), headers={"X-Authtoken": demo.token},
                            timeout=30).status_code == 200
    page = session.get(demo.console("metrics"), timeout=30).text
    titles = re.findall(r"<title id=\"chart-\d\">([^<]+)</title>", page)
    assert [t.split(":")[0] for t in titles] == ["Requests per minute", "Latency",
                                                 "Kintone calls per minute"]
    answered = re.search(r"answered: latest (\d+)", titles[0])
    calls = re.search(r"calls: latest (\d+)", titles[2])
    # This minute, or the one before when the minute turned between the requests and the page.
    assert answered and calls and "<polyline" in page
    assert int(re.search(r"answered: latest \d+, highest (\d+)", titles[0]).group(1)) >= 3
    assert int(re.search(r"calls: latest \d+, highest (\d+)", titles[2]).group(1)) >= 1


def test_apps_left_out_are_listed_with_the_reason(demo: Demo):
    kintone = replace(demo.settings.kintone, apps=("ORDERS",))
    with serving(replace(demo.settings, kintone=kintone)) as url:
        session = requests.Session()
        session.post(f"{url}/console/login", data={"authtoken": demo.token}, timeout=30)
        page = session.get(f"{url}/console/apps", timeout=30).text
    rows = {cells[1]: cells[4] for cells in
            (re.findall(r"<td>(.*?)</td>", row) for row in page.split("<tr>")[2:])
            if len(cells) == 5}
    assert rows["CUSTOMERS"] == rows["SUPPORT"] == "not exposed: left out by [kintone] Apps"
    assert 'href="#set-ORDERS"' in rows["ORDERS"]
    assert f"{url}/api.rsc/$oas?sets=ORDERS" in page


def test_a_dead_letter_is_queued_again_once(demo: Demo):
    store = demo.app.extensions[TRIGGERS].store
    store.add(Subscription("dead-test", demo.info.apps["ORDERS"], "ORDERS", "ADD_RECORD",
                           "https://callback.invalid/hook", "demo"))
    now = time.time()
    store.enqueue("dead-test-event", [("dead-test", b'{"n": 1}')], now)
    delivery = store.claim(now + 1, 60)
    assert delivery is not None and delivery.subscription == "dead-test"
    store.bury(delivery.id, "gave up", now + 1)
    session, csrf = demo.logged_in()
    retry = demo.console(f"triggers/dead/{delivery.id}/retry")
    first = session.post(retry, data={"csrf": csrf}, timeout=30)
    assert first.status_code == 200 and f"Dead letter {delivery.id} queued again." in first.text
    again = session.post(retry, data={"csrf": csrf}, timeout=30)
    assert f"Dead letter {delivery.id} was already queued again." in again.text
    missing = session.post(demo.console("triggers/dead/999999/retry"), data={"csrf": csrf},
                           timeout=30)
    assert missing.status_code == 404
    store.remove("dead-test")
