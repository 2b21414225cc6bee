"""The console in a real browser: Playwright for Python driving Debian's chromium (installed by
``tests/security/browser_setup.sh`` when missing), with axe-core (npm, ``js/``) checking every
page for serious or critical accessibility violations.

The pages run under their own strict CSP; axe is added as an init script, which the browser
runs outside the page's policy, so the policy stays as served.

``CONSOLE_SCREENSHOT=docs/console.png`` also saves the screenshot the README shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.triggers.context import EXTENSION as TRIGGERS
from gateway.triggers.store import Subscription
from tests.console.conftest import Demo
from tests.debian import installed

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a test extra")

SETUP = Path(__file__).parents[1] / "security" / "browser_setup.sh"
JS = Path(__file__).with_name("js")
AXE = JS / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = """async () => (await axe.run()).violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""


@pytest.fixture(scope="module")
def axe() -> Path:
    if not AXE.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is needed to install axe-core")
        done = subprocess.run(["npm", "ci", "--prefix", str(JS), "--no-audit", "--no-fund"],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"npm ci could not install axe-core: {done.stderr.strip()[-300:]}")
    return AXE


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = installed("chromium", SETUP)
    with playwright.sync_playwright() as driver:
        try:
            launched = driver.chromium.launch(executable_path=chromium,
                                              args=["--no-sandbox", "--disable-gpu"])
        except playwright.Error as exc:
            pytest.skip(f"chromium does not start under Playwright: {exc}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser, axe: Path):
    context = browser.new_context(viewport={"width": 1100, "height": 700})
    context.add_init_script(path=str(axe))
    tab = context.new_page()
    blocked: list[str] = []
    tab.on("console", lambda m: blocked.append(m.text)
           if "Content Security Policy" in m.text else None)
    yield tab
    context.close()
    assert blocked == []  # our pages need nothing their own policy forbids


def accessible(page) -> None:
    assert page.evaluate(SERIOUS) == [], page.url


def follow(page, selector: str) -> None:
    """Click a link or button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


def log_in(page, demo: Demo, token: str) -> None:
    page.goto(demo.console())
    assert page.url.endswith("/console/login")
    accessible(page)
    page.fill("#authtoken", token)
    follow(page, "button:has-text('Log in')")


def test_an_admin_runs_the_gateway_from_the_console(page, demo: Demo):
    log_in(page, demo, demo.token)
    assert page.locator("h1").inner_text() == "Status"
    assert page.locator("#kintone-reachable").inner_text().startswith("yes")
    accessible(page)
    if os.environ.get("CONSOLE_SCREENSHOT"):
        page.screenshot(path=os.environ["CONSOLE_SCREENSHOT"],
                        clip={"x": 0, "y": 0, "width": 1100, "height": 600})

    follow(page, "nav >> text=Apps")
    for name in ("CUSTOMERS", "ORDERS", "SUPPORT"):
        assert page.locator(f"#set-{name}").is_visible()
    assert "$oas?sets=ORDERS" in page.locator("#swagger-ORDERS").inner_text()
    accessible(page)

    # A user added here can read through the OData API, until revoked.
    follow(page, "nav >> text=Users")
    page.fill("#new-name", "excel")
    page.fill("#new-rights", "GET:ORDERS")
    follow(page, "button:has-text('Add user')")
    token = page.locator("#new-token").inner_text()
    accessible(page)
    orders = demo.odata("ORDERS?$top=2")
    assert requests.get(orders, auth=("excel", token), timeout=30).status_code == 200
    follow(page, "#user-excel button:has-text('Revoke')")
    assert page.locator("#user-excel").count() == 0
    assert requests.get(orders, auth=("excel", token), timeout=30).status_code == 401

    follow(page, "nav >> text=Explain")
    page.select_option("#x-set", "ORDERS")
    page.fill("#x-filter", "quantity gt 3")
    page.fill("#x-orderby", "order_date desc")
    follow(page, "button:has-text('Explain')")
    assert page.locator("#kintone-query").inner_text() == \
        'quantity > "3" order by order_date desc, $id asc'
    assert page.locator("table >> tbody >> tr").count() == 5
    accessible(page)

    missing = requests.get(demo.odata("NoSuchSet"), headers={"X-Authtoken": demo.token},
                           timeout=30)
    assert missing.status_code == 404
    follow(page, "nav >> text=Activity")
    page.select_option("#f-status", "failed")
    follow(page, "button:has-text('Filter')")
    row = page.locator("tr", has_text=missing.headers["X-Request-Id"])
    assert "GET /api.rsc/NoSuchSet" in row.inner_text()
    accessible(page)

    store = demo.app.extensions[TRIGGERS].store
    store.add(Subscription("console-test", demo.info.apps["ORDERS"], "ORDERS", "ADD_RECORD",
                           "https://flow.example/hook?sig=s3cret", "demo"))
    follow(page, "nav >> text=Triggers")
    subscription = page.locator("#subscription-console-test")
    assert "flow.example" in subscription.inner_text()
    assert "s3cret" not in page.content()
    accessible(page)
    follow(page, "#subscription-console-test button:has-text('Delete')")
    assert page.locator("#subscription-console-test").count() == 0
    assert store.get("console-test") is None

    follow(page, "nav >> text=Metrics")
    assert page.locator("svg[role=img]").count() == 3
    accessible(page)

    follow(page, "nav >> text=Settings")
    assert "••••••" in page.content()  # the token key
    accessible(page)

    follow(page, "button:has-text('Log out')")
    assert page.url.endswith("/console/login")
    page.goto(demo.console("users"))
    assert page.url.endswith("/console/login")


def test_a_non_admin_cannot_log_in(page, demo: Demo):
    log_in(page, demo, demo.reader_token)
    assert "not an admin" in page.locator(".error").inner_text()
    accessible(page)
