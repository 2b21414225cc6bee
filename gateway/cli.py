"""The ``kintone-gateway`` command: serve the gateway, run the Kintone sandbox, or the demo.

Startup lines go to stdout, flushed, one per line, so scripts can parse them::

    service: http://localhost:8080/api.rsc/
    sandbox: http://localhost:8090
    user: demo demo-password
    api-token: 1 0a1b2c...
    authtoken: demo ...                    (the demo only)
    swagger: http://localhost:8080/api.rsc/$oas?access=...   (the demo only)

then the process serves until Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import argparse
import base64
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .openapi import cli as openapi_cli
from .openapi.cli import document_url
from .openapi.examples import ExampleRecords
from .ops.server import serve
from .sandbox import Sandbox, SandboxServer
from .sandbox import create_app as sandbox_app
from .sandbox.config import (
    ConfigError,
    SandboxFile,
    apply_config,
    load_config,
    load_users_file,
    merge,
)
from .sandbox.demo import DemoInfo, demo_info, seed_demo
from .sandbox.webhooks import EVENT_TYPES, add_webhook
from .security import add_user
from .security.cli import add_users_command
from .security.documents import capability
from .security.ipallow import AddressList
from .settings import (
    AuthScheme,
    GatewaySettings,
    KintoneSettings,
    Secret,
    Section,
    Settings,
)
from .triggers.paths import INBOUND
from .web import create_app
from .web.server import WebServer

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
GATEWAY_PORT = 8080
SERVICE_PATH = "/api.rsc/"
DEMO_USER = "demo"
DEMO_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,256}")
# Requests per hour of the demo user: exploring a service (Power BI's navigator previews every
# set) soon passes the default of 1,000.
DEMO_REQUESTS_PER_HOUR = 100_000
DEMO_DOCUMENT_DAYS = 30  # the demo's swagger: URL stays valid this long


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kintone-gateway",
        description="OData v4 + Swagger API gateway for Kintone, with a Kintone-compatible "
                    "sandbox.",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    sandbox = commands.add_parser(
        "sandbox",
        help="run the Kintone-compatible sandbox server",
        description="Run a local Kintone-compatible REST server (/k/v1/...) until Ctrl-C.",
    )
    _add_listen_options(sandbox)
    sandbox.add_argument(
        "--data", metavar="FILE",
        help="SQLite file holding the sandbox data, created when missing and kept between runs "
             "(default: in memory, lost on exit)",
    )
    sandbox.add_argument(
        "--seed", choices=("demo", "none"), default="none",
        help="data to create at start: 'demo' adds the demo users and apps, only when the "
             "database has no apps yet (default: none)",
    )
    sandbox.add_argument(
        "--config", metavar="FILE",
        help="sandbox configuration JSON: language, time zone, Basic authentication, users, "
             "organizations, groups, spaces, OAuth tokens",
    )
    sandbox.add_argument(
        "--users", metavar="FILE",
        help="text file of users to create, one per line: LOGIN PASSWORD [Display name]",
    )
    sandbox.add_argument(
        "--timezone", metavar="TZ", type=_timezone,
        help="organisation time zone, an IANA name such as Asia/Tokyo (overrides --config; "
             "default UTC)",
    )
    sandbox.add_argument(
        "--language", choices=("en", "ja"),
        help="organisation language of error messages (overrides --config; default en)",
    )
    sandbox.set_defaults(run=_run_sandbox)

    demo = commands.add_parser(
        "demo",
        help="run the demo: the gateway in front of a sandbox with demo apps and records",
        description="Start an in-memory sandbox seeded with the demo data and the gateway in "
                    "front of it, print their URLs and credentials, then serve until Ctrl-C.",
    )
    _add_listen_options(demo, port_help="port of the gateway", default_port=GATEWAY_PORT)
    demo.add_argument(
        "--sandbox-port", type=int, default=0,
        help="port of the demo sandbox (default: 0, a free port)",
    )
    demo.add_argument(
        "--token", type=_demo_token, metavar="AUTHTOKEN",
        help="the demo user's authtoken, to keep the one printed by an earlier start (Power BI "
             "and Excel remember it); at least 32 letters, digits, '-' or '_' (default: a new "
             "one at every start)",
    )
    demo.add_argument(
        "--allowed-ips", metavar="LIST", type=_allowed_ips, default=None,
        help="client addresses that may call the gateway, as [Security] AllowedIPs: addresses "
             "and CIDR ranges, comma-separated, or * (default: this machine only); use with "
             "--host 0.0.0.0 to serve other machines",
    )
    demo.set_defaults(run=_run_demo)

    serve = commands.add_parser(
        "serve",
        help="serve the gateway in front of the Kintone named in the settings file",
        description="Serve the OData gateway (under /api.rsc/) for the Kintone domain of the "
                    "settings file under gunicorn ([Server] settings), until SIGTERM or "
                    "Ctrl-C. Logs are JSON lines on stderr, every request's audit line "
                    "included.",
    )
    serve.add_argument(
        "--config", metavar="FILE",
        help="settings file (default: $GATEWAY_SETTINGS, else ./settings.cfg; every key may "
             "also come from the environment, see settings.cfg.example)",
    )
    serve.add_argument("--host", help="interface to listen on (default: [gateway] Host)")
    serve.add_argument("--port", type=int,
                       help="port to listen on (default: [gateway] Port; 0 picks a free port)")
    serve.set_defaults(run=_run_serve)
    add_users_command(commands)
    openapi_cli.add_commands(commands)
    return parser


def _add_listen_options(parser: argparse.ArgumentParser, *,
                        port_help: str = "port to listen on",
                        default_port: int = DEFAULT_PORT) -> None:
    parser.add_argument(
        "--host", default=DEFAULT_HOST,
        help=f"interface to listen on (default: {DEFAULT_HOST}; 0.0.0.0 for every interface)",
    )
    parser.add_argument(
        "--port", type=int, default=default_port,
        help=f"{port_help} (default: {default_port}; 0 picks a free port)",
    )
    parser.add_argument(
        "--log-requests", action="store_true", help="log every HTTP request on stderr",
    )


def _demo_token(text: str) -> str:
    """A chosen authtoken, as hard to guess as a generated one (no lockout protects it)."""
    if not DEMO_TOKEN.fullmatch(text):
        raise argparse.ArgumentTypeError("the token needs at least 32 characters, each a "
                                         "letter, a digit, '-' or '_'")
    return text


def _allowed_ips(text: str) -> str:
    try:
        AddressList.parse([part.strip() for part in text.split(",") if part.strip()])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone: {name!r}") from None
    return name


# ---------------------------------------------------------------------------------------------
# Commands


def _run_sandbox(args: argparse.Namespace) -> int:
    sandbox = _configured_sandbox(args)
    lines = _seed_lines(sandbox) if args.seed == "demo" else []
    server = _listen(lambda: SandboxServer(sandbox, args.host, args.port,
                                           quiet=not args.log_requests), args.host, args.port)
    return _serve([server], [f"sandbox: {server.url}", *lines])


def _run_demo(args: argparse.Namespace) -> int:
    sandbox = Sandbox()
    info = seed_demo(sandbox)
    sandbox_server = _listen(lambda: SandboxServer(sandbox, DEFAULT_HOST, args.sandbox_port,
                                                   quiet=not args.log_requests),
                             DEFAULT_HOST, args.sandbox_port)
    secret = secrets.token_urlsafe(24)
    settings, authtoken = demo_settings(sandbox_server.url, info, webhook_secret=secret,
                                        token=args.token, allowed_ips=args.allowed_ips)
    examples = demo_examples(sandbox, info)
    gateway = _listen(lambda: WebServer(create_app(settings, examples=examples), args.host,
                                        args.port, quiet=not args.log_requests),
                      args.host, args.port)
    _hook_demo_apps(sandbox, info, f"{gateway.url}{SERVICE_PATH.rstrip('/')}{INBOUND}{secret}")
    access = capability(settings, DEMO_USER, int(time.time()) + DEMO_DOCUMENT_DAYS * 86_400)
    return _serve([sandbox_server, gateway], [
        f"service: {gateway.url}{SERVICE_PATH}",
        f"console: {gateway.url}/console/",
        f"sandbox: {sandbox_server.url}",
        *_credential_lines(info),
        f"authtoken: {DEMO_USER} {authtoken}",
        f"swagger: {document_url(gateway.url, access)}",
    ])


def demo_examples(sandbox: Sandbox, info: DemoInfo) -> ExampleRecords:
    """The first record of each demo app, as Kintone reads it: real values for the API
    documents' examples (a customer's name, an order's amount), the same in every demo."""
    kintone = sandbox_app(sandbox).test_client()
    login = base64.b64encode(f"{info.login}:{info.password}".encode()).decode()
    records: dict[int, dict] = {}
    for app in info.apps.values():
        reply = kintone.get("/k/v1/records.json", headers={"X-Cybozu-Authorization": login},
                            query_string={"app": app, "query": "order by $id asc limit 1"})
        records.update((app, record) for record in reply.get_json()["records"])
    return records


def _hook_demo_apps(sandbox: Sandbox, info: DemoInfo, inbound: str) -> None:
    """Every demo app's webhook calls the gateway, as an app administrator would set it up
    (gateway/triggers/docs.md), so the documents' webhook triggers work."""
    with sandbox.db.transaction() as conn:
        for app in info.apps.values():
            add_webhook(conn, app, inbound, list(EVENT_TYPES),
                        description="kintone-gateway demo")


def demo_settings(sandbox_url: str, info: DemoInfo, *, webhook_secret: str = "",
                  token: str | None = None, allowed_ips: str | None = None
                  ) -> tuple[Settings, str]:
    """The demo gateway's settings and the demo user's authtoken: the gateway reads the demo
    sandbox as its demo user, exposing every app, with its webhook triggers on (callbacks on
    this machine allowed, as local flows and the tests subscribe); the demo user may do
    anything, often."""
    triggers = {"database": ":memory:", "callbackallowedips": "127.0.0.0/8, ::1"}
    if webhook_secret:
        triggers["webhooksecret"] = webhook_secret
    sections = {"triggers": Section("triggers", triggers)}
    if allowed_ips is not None:
        sections["security"] = Section("security", {"allowedips": allowed_ips})
    settings = Settings(
        kintone=KintoneSettings(url=sandbox_url, auth_scheme=AuthScheme.PASSWORD,
                                user=info.login, password=Secret(info.password)),
        gateway=GatewaySettings(),
        sections=sections,
    )
    return add_user(settings, DEMO_USER, token=token, per_hour=DEMO_REQUESTS_PER_HOUR)


def _run_serve(args: argparse.Namespace) -> int:
    serve(args.config, args.host, args.port)


def _listen(make: Callable[[], SandboxServer | WebServer], host: str, port: int
            ) -> SandboxServer | WebServer:
    try:
        return make()
    except OSError as exc:  # port taken, unknown host, ...
        sys.exit(f"kintone-gateway: error: cannot listen on {host}:{port}: {exc}")


def _configured_sandbox(args: argparse.Namespace) -> Sandbox:
    try:
        base = load_config(args.config) if args.config else SandboxFile()
        users = load_users_file(args.users) if args.users else []
    except (ConfigError, OSError) as exc:
        sys.exit(f"kintone-gateway: error: {exc}")
    # Command-line options win over the file; merged, they also survive /__sandbox/reset.
    options = SandboxFile(language=args.language, timezone=args.timezone, users=users)
    sandbox = Sandbox(db_path=args.data or ":memory:")
    apply_config(sandbox, merge(base, options))
    return sandbox


def _seed_lines(sandbox: Sandbox) -> list[str]:
    """Seed the demo (only into a database without apps) and describe its credentials."""
    info = seed_demo(sandbox) if _is_empty(sandbox) else demo_info(sandbox)
    if info is None:
        print("warning: the database already has apps; the demo data was not added",
              file=sys.stderr, flush=True)
        return []
    return _credential_lines(info)


def _credential_lines(info: DemoInfo) -> list[str]:
    return [f"user: {info.login} {info.password}",
            *(f"api-token: {app} {token}" for app, token in info.tokens.items())]


def _is_empty(sandbox: Sandbox) -> bool:
    with sandbox.db.lock:
        return sandbox.db.conn.execute("SELECT 1 FROM apps LIMIT 1").fetchone() is None


def _serve(servers: list[SandboxServer | WebServer], lines: list[str]) -> int:
    """Start the servers, print the startup lines, and block until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    _on_signals(lambda *_: stop.set())
    for server in servers:
        server.start()
    for line in lines:
        print(line, flush=True)
    try:
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        for server in servers:
            server.stop()
    return 0


def _on_signals(handler: Callable) -> None:
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
