"""``kintone-gateway oas-url`` and ``kintone-gateway connector export``: what a maker needs to
bring the gateway into Power Automate, made from the settings file.

* ``oas-url --user alice --days 30`` prints ``swagger: URL``, a document-only capability URL
  (see ``gateway.security.documents``) that Power Automate's designer can fetch anonymously;
* ``connector export DIR`` writes a custom connector in the layout of Microsoft's ``paconn``
  tool and the PowerPlatformConnectors repository: ``apiDefinition.swagger.json``,
  ``apiProperties.json`` (Basic authentication: the gateway user and the authtoken) and
  ``README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from ..kintone import KintoneClient, KintoneError
from ..security.documents import PARAMETER, capability
from ..service import load_model
from ..settings import Settings, SettingsError, load_settings
from ..triggers.config import TriggerSettings
from .dynamic import build_dynamic
from .origin import SERVICE_PATH, Origin, public_origin
from .own_api import own_spec
from .process_states import ProcessStates
from .swagger2 import build_swagger2, select_sets

BRAND_COLOR = "#e5a00d"  # a Kintone-like amber; the connector's icon background
DAY = 86_400


def add_commands(commands: argparse._SubParsersAction) -> None:
    url = commands.add_parser(
        "oas-url", help="print a document-only URL Power Automate can import",
        description="Print 'swagger: URL': a signed, expiring URL that fetches the API "
                    "definition (with the user's rights) and nothing else, for Power "
                    "Automate's designer, which fetches the definition anonymously.")
    url.add_argument("--user", required=True, help="the gateway user whose document it is")
    url.add_argument("--days", type=int, default=30, help="days until it expires (default 30)")
    _document_options(url)
    url.set_defaults(run=_run_oas_url)

    connector = commands.add_parser("connector", help="Power Automate custom connectors",
                                    description="Power Automate custom connectors.")
    actions = connector.add_subparsers(title="actions", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="write a custom connector for paconn",
        description="Write apiDefinition.swagger.json, apiProperties.json and README.md into "
                    "DIR, ready for 'paconn create' or the custom connector wizard.")
    export.add_argument("dir", metavar="DIR", help="the directory to write (created)")
    _document_options(export)
    export.set_defaults(run=_run_export)


def _document_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", help="only these entity sets, comma-separated")
    parser.add_argument("--dynamic", action="store_true",
                        help="the dynamic connector document (an app picker; any tenant size)")
    parser.add_argument("--url", help="the gateway's public base URL (default: [gateway] "
                                      "PublicURL, else http://Host:Port)")
    parser.add_argument("--config", metavar="FILE", help="settings file (default: "
                                                         "$GATEWAY_SETTINGS or ./settings.cfg)")


def _base_url(settings: Settings, url: str | None) -> str:
    gateway = settings.gateway
    return (url or gateway.public_url or f"http://{gateway.host}:{gateway.port}").rstrip("/")


def document_url(base: str, access: str, sets: str | None = None,
                 dynamic: bool = False) -> str:
    query = {PARAMETER: access, **({"sets": sets} if sets else {}),
             **({"dynamic": "true"} if dynamic else {})}
    return f"{base}{SERVICE_PATH}/$oas?{urlencode(query)}"


def _run_oas_url(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
        access = capability(settings, args.user, int(time.time()) + args.days * DAY)
    except (ValueError, OSError) as exc:  # SettingsError is a ValueError
        sys.exit(f"kintone-gateway: error: {exc}")
    url = document_url(_base_url(settings, args.url), access, args.sets, args.dynamic)
    print(f"swagger: {url}", flush=True)
    return 0


def _run_export(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
        where = public_origin(_base_url(settings, args.url))
        document = connector_document(settings, where, args.sets, args.dynamic)
        written = write_connector(Path(args.dir), document, where)
    except (SettingsError, KintoneError, OSError, LookupError) as exc:
        sys.exit(f"kintone-gateway: error: {exc}")
    for path in written:
        print(f"wrote {path}")
    return 0


def connector_document(settings: Settings, where: Origin, sets: str | None,
                       dynamic: bool) -> dict:
    webhooks = TriggerSettings.from_settings(settings).webhook_secret is not None
    own = own_spec()
    if dynamic:
        return build_dynamic(where, own.error_definitions(), webhooks=webhooks)
    names = [name.strip() for name in (sets or "").split(",") if name.strip()] or None
    with KintoneClient(settings.kintone) as client:
        model = load_model(client, settings.kintone)
        processes = ProcessStates(client.get_process_settings).of(model,
                                                                  select_sets(model, names))
    return build_swagger2(model, where, own, names, webhooks=webhooks, processes=processes)


def api_properties(pageable: list[str]) -> dict:
    """The connection asks for what Basic authentication needs: the gateway user and the
    authtoken (the document's first security definition is Basic)."""
    def parameter(kind: str, name: str, description: str, index: int) -> dict:
        return {"type": kind, "uiDefinition": {
            "displayName": name, "description": description, "tooltip": description,
            "constraints": {"tabIndex": index, "clearText": kind == "string",
                            "required": "true"}}}

    return {"properties": {
        "connectionParameters": {
            "username": parameter("securestring", "User name", "Your gateway user name.", 2),
            "password": parameter("securestring", "Authtoken",
                                  "Your authtoken (kintone-gateway users add).", 3),
        },
        "iconBrandColor": BRAND_COLOR,
        "capabilities": [],
        "publisher": "kintone-gateway",
        "stackOwner": "kintone-gateway",
        "policyTemplateInstances": [{
            # Next links point at the gateway; the platform must route them through the
            # connector (Microsoft's note on x-ms-pageable).
            "templateId": "updatenextlink", "title": "Route @odata.nextLink",
            "parameters": {"x-ms-apimTemplate-operationName": pageable,
                           "x-ms-apimTemplateParameter.nextLinkPropertyName": "@odata.nextLink"},
        }],
    }}


def write_connector(directory: Path, document: dict, where: Origin) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    properties = api_properties(sorted(
        op["operationId"] for item in document["paths"].values() for op in item.values()
        if "x-ms-pageable" in op))
    files = {
        "apiDefinition.swagger.json": json.dumps(document, indent=2, ensure_ascii=False),
        "apiProperties.json": json.dumps(properties, indent=2, ensure_ascii=False),
        "README.md": _readme(document, where),
    }
    for name, text in files.items():
        (directory / name).write_text(text + "\n", encoding="utf-8")
    return [directory / name for name in files]


def _readme(document: dict, where: Origin) -> str:
    operations = sum(1 for item in document["paths"].values() for key in item
                     if key != "x-ms-notification-content")
    return f"""# {document["info"]["title"]}

A Power Automate custom connector for the Kintone gateway at {where.url}
({operations} operations).

## Creating it

With Microsoft's paconn tool (`pip install paconn`):

    paconn login
    paconn create --api-def apiDefinition.swagger.json --api-prop apiProperties.json

Or in Power Automate: *Data → Custom connectors → New custom connector → Import an OpenAPI
file*, choose `apiDefinition.swagger.json`; on the *Security* tab keep *Basic authentication*.

## Connecting

Power Automate asks for the gateway **user name** and its **authtoken** (the password of Basic
authentication). The gateway must be reachable from Microsoft's cloud over HTTPS (see the
gateway's README, "Use it from Power Automate").
"""
