"""``python -m gateway.ops.probe [healthz|readyz]``: ask the gateway on this machine whether it
is alive (or ready); exit 0 if so, else 1. The Docker image's HEALTHCHECK, which has no curl.

It asks the address and port of the settings (a wildcard host is asked on loopback, which the
default ``[Security] AllowedIPs`` admits), over TLS when ``[Server] CertFile`` is set. The
certificate is not checked: it names the public host, and nothing secret is sent.
"""

from __future__ import annotations

import ssl
import sys
import urllib.request
from collections.abc import Sequence

from ..settings import SettingsError, load_settings
from .server import ServerOptions

TIMEOUT = 4.0
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def probe_url(options: ServerOptions, check: str) -> str:
    host = _WILDCARDS.get(options.host, options.host)
    host = f"[{host}]" if ":" in host else host
    return f"{options.scheme}://{host}:{options.port}/{check}"


def main(argv: Sequence[str]) -> int:
    check = argv[0] if argv else "healthz"
    if check not in ("healthz", "readyz"):
        print(f"usage: python -m gateway.ops.probe [healthz|readyz], not {check!r}",
              file=sys.stderr)
        return 2
    try:
        options = ServerOptions.from_settings(load_settings())
    except SettingsError as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return 1
    context = ssl._create_unverified_context()  # see the module's docstring
    try:
        with urllib.request.urlopen(probe_url(options, check), timeout=TIMEOUT,
                                    context=context) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:  # refused, timed out, or an HTTP error status
        print(f"probe: {check}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
