"""A real browser: a page served from another origin calls the gateway with ``fetch()``
(sending the X-Authtoken header, so with a preflight). It gets the data when its origin is
allowed; the browser blocks it otherwise.

Headless Chromium comes from Debian's packages; ``browser_setup.sh`` installs it when missing.
"""

from __future__ import annotations

import html
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gateway.security import add_user
from tests.debian import installed
from tests.security.conftest import settings_of

SETUP = Path(__file__).with_name("browser_setup.sh")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=15000", "--dump-dom"]
RESULT = re.compile(r'<pre id="result">(.*?)</pre>', re.S)
PAGE = """<!doctype html><html><body><pre id="result">pending</pre><script>
fetch("{url}", {{headers: {{"X-Authtoken": "{token}", "Accept": "application/json"}}}})
  .then(r => r.json())
  .then(j => {{ document.getElementById("result").textContent = "ok " + j.user; }})
  .catch(e => {{ document.getElementById("result").textContent = "blocked " + e.name; }});
</script></body></html>"""


@pytest.fixture(scope="session")
def chromium() -> str:
    return installed("chromium", SETUP)


class PageServer(ThreadingHTTPServer):
    """Serves ``page`` at every path: set once the gateway (which needs our origin) runs."""

    page = ""


class Page(BaseHTTPRequestHandler):
    server: PageServer

    def do_GET(self) -> None:
        data = self.server.page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def pages() -> Iterator[tuple[PageServer, PageServer]]:
    """Two page servers: two origins (ports) other than the gateway's."""
    servers = (PageServer(("127.0.0.1", 0), Page), PageServer(("127.0.0.1", 0), Page))
    for server in servers:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def load(chromium: str, url: str) -> str:
    """The page's result line once its script has run."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", url],
                              capture_output=True, text=True, timeout=120)
    found = RESULT.search(done.stdout)
    assert found, (done.returncode, done.stdout[-500:], done.stderr[-1500:])
    return html.unescape(found.group(1))


def test_fetch_from_an_allowed_origin_and_from_another(chromium, serve, pages):
    allowed, other = (f"http://127.0.0.1:{server.server_port}" for server in pages)
    settings, token = add_user(settings_of({"CORS": {"AllowedOrigins": allowed}}), "browser")
    gateway = serve(settings)
    for server in pages:
        server.page = PAGE.format(url=f"{gateway.origin}/api.rsc/Orders", token=token)
    assert load(chromium, f"{allowed}/") == "ok browser"
    assert load(chromium, f"{other}/") == "blocked TypeError"
