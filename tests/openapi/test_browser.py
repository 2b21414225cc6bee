"""A real browser (Debian's headless Chromium driven by Playwright for Python), as a maker uses
the gateway: a page on another origin (Power Automate's designer) fetches the swagger: URL the
demo prints, and a person logs in to $docs/ with Basic credentials (also when they open it at
/@TOKEN/$docs/), sees the operations and runs "Try it out" on a list.

``tests/security/browser_setup.sh`` installs Chromium when missing (apt-get, as root); the test
is skipped, saying why, where Chromium or Playwright cannot be had.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.http.context import EXTENSION
from gateway.openapi.cli import document_url
from gateway.security.documents import capability
from tests.debian import installed
from tests.gateway.conftest import Gateway
from tests.security.test_browser import Page, PageServer

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

SETUP = Path(__file__).resolve().parents[1] / "security" / "browser_setup.sh"
DESIGNER = """<!doctype html><html><body><pre id="result">pending</pre><script>
fetch("{url}").then(r => r.json())
  .then(j => {{ document.getElementById("result").textContent = "ok " + j.swagger; }})
  .catch(e => {{ document.getElementById("result").textContent = "blocked " + e.name; }});
</script></body></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator:
    chromium = installed("chromium", SETUP)
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                  chromium_sandbox=False)
        except sync_api.Error as exc:
            pytest.skip(f"Playwright cannot start {chromium}: {str(exc)[:300]}")
        yield launched
        launched.close()


@pytest.fixture()
def designer_page() -> Iterator[PageServer]:
    """A page server on an origin other than the gateway's (``localhost``, another port)."""
    server = PageServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_page_on_another_origin_fetches_the_swagger_url(browser, demo_gateway: Gateway,
                                                          designer_page):
    settings = demo_gateway.app.extensions[EXTENSION].settings
    access = capability(settings, "test", int(time.time()) + 3600)
    swagger = document_url(demo_gateway.root.removesuffix("/api.rsc"), access)  # as the demo
    designer_page.page = DESIGNER.format(url=swagger)
    page = browser.new_page()
    try:
        page.goto(f"http://localhost:{designer_page.server_port}/")
        result = page.locator("#result")
        sync_api.expect(result).not_to_have_text("pending", timeout=60_000)
        assert result.text_content() == "ok 2.0"
    finally:
        page.close()


@pytest.mark.parametrize("under_token", [False, True], ids=["plain", "under-token"])
def test_docs_page_logs_in_and_tries_a_list_operation(browser, demo_gateway: Gateway,
                                                      under_token: bool):
    """Opened at ``/@TOKEN/$docs/`` (a bookmark from before), the browser is sent to the plain
    page: no request after the one the person typed has the token in its URL."""
    context = browser.new_context(http_credentials={"username": "test",
                                                    "password": demo_gateway.token})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    start = f"{demo_gateway.root}/@{demo_gateway.token}/$docs/" if under_token else \
        demo_gateway.url("$docs/")
    try:
        page.goto(start)
        assert page.url == demo_gateway.url("$docs/")
        operation = page.locator("#operations-CUSTOMERS-ListCustomers")
        sync_api.expect(operation).to_be_visible(timeout=60_000)
        assert page.locator(".opblock").count() > 20
        # Swagger UI 5 renders the OpenAPI 3.1 document (the page's first).
        assert "OAS 3.1" in page.locator(".info .title").text_content()
        operation.locator(".opblock-summary").click()
        operation.locator(".try-out__btn").click()
        operation.locator("input[placeholder='$top']").fill("2")
        operation.locator(".execute").click()
        status = operation.locator(".live-responses-table .response .response-col_status")
        sync_api.expect(status.first).to_have_text("200", timeout=60_000)
        assert "C-00001" in operation.locator(".live-responses-table").text_content()
    finally:
        context.close()
    assert requested[0] == start
    made = requested[1:] if under_token else requested
    assert made and all(url.startswith(demo_gateway.root) for url in made), made
    assert any("$oas" in url for url in made), made
    assert not [url for url in made if demo_gateway.token in url]
