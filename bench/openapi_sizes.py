"""Sizes of the API documents by number of apps: the typed Swagger 2.0 document against Power
Automate's 1 MB limit, and the dynamic connector document, which should not grow.

    python3 bench/openapi_sizes.py                 # 3 (the demo), 43 and 200 apps
    python3 bench/openapi_sizes.py --apps 10 500

Each app is the 200-app tenant's of tests/openapi/test_power_automate.py (eleven fields, choices
and a subtable); "demo" is the demo's three apps. Sizes are of the compact JSON the gateway sends.
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.sandbox import Sandbox, SandboxServer  # noqa: E402
from gateway.sandbox.demo import seed_demo  # noqa: E402
from gateway.security import add_user  # noqa: E402
from gateway.settings import (  # noqa: E402
    AuthScheme,
    GatewaySettings,
    KintoneSettings,
    Secret,
    Section,
    Settings,
)
from gateway.web import create_app  # noqa: E402
from tests.openapi.test_power_automate import tenant_fields  # noqa: E402

ADMIN = ("admin", "admin-password")


def sizes(kintone: KintoneSettings) -> tuple[int, int]:
    settings, token = add_user(Settings(kintone=kintone, gateway=GatewaySettings(), sections={
        "application": Section("application", {"maxapidocumentbytes": "0"}),
        "triggers": Section("triggers", {"database": ":memory:",
                                         "webhooksecret": "a-webhook-secret-0123456789"})}),
        "bench")
    client = create_app(settings).test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(f"bench:{token}".encode()).decode()}
    typed = client.get("/api.rsc/$oas", headers=auth)
    dynamic = client.get("/api.rsc/$oas?dynamic=true", headers=auth)
    assert typed.status_code == dynamic.status_code == 200
    return len(typed.data), len(dynamic.data)


def tenant(count: int) -> tuple[SandboxServer, KintoneSettings]:
    sandbox = Sandbox()
    sandbox.directory.add_user(*ADMIN, "Administrator")
    server = SandboxServer(sandbox).start()
    with requests.Session() as session:
        for number in range(1, count + 1):
            session.post(f"{server.url}/__sandbox/apps", timeout=60, json={
                "name": f"App {number}", "code": f"A{number:03d}",
                "fields": tenant_fields(number)}).raise_for_status()
    return server, KintoneSettings(url=server.url, auth_scheme=AuthScheme.PASSWORD,
                                   user=ADMIN[0], password=Secret(ADMIN[1]))


def demo() -> tuple[SandboxServer, KintoneSettings]:
    sandbox = Sandbox()
    info = seed_demo(sandbox)
    server = SandboxServer(sandbox).start()
    return server, KintoneSettings(url=server.url, auth_scheme=AuthScheme.PASSWORD,
                                   user=info.login, password=Secret(info.password))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, nargs="*", default=[43, 200])
    args = parser.parse_args()
    print(f"{'apps':>6} {'typed $oas':>14} {'dynamic $oas':>14}")
    for label, make in [("demo", demo), *((str(n), lambda n=n: tenant(n)) for n in args.apps)]:
        server, kintone = make()
        try:
            typed, dynamic = sizes(kintone)
        finally:
            server.stop()
        print(f"{label:>6} {typed:>14,} {dynamic:>14,}", flush=True)


if __name__ == "__main__":
    main()
