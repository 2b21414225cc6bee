"""Hardening: a request body size limit, security headers, no server banner, and a warning
at start when a file holding secrets can be read by others than its owner.

The ``Server`` header is the HTTP server's, not the app's: gunicorn sends a bare ``gunicorn``;
Werkzeug's server sends its and Python's versions unless it is given ``BannerlessHandler``."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from flask import Request, Response
from werkzeug.serving import WSGIRequestHandler

from ..settings import Section
from .errors import too_large

log = logging.getLogger("gateway.security")

DEFAULT_MAX_BODY = 10 * 1024 * 1024
# Set unless a view chose otherwise. The API serves data, never pages: nothing may frame or run
# it; no-referrer because a URL may hold an authtoken (AllowAuthtokenInURL).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-cache",
}
_HSTS = ("Strict-Transport-Security", "max-age=31536000")


def max_body(security: Section) -> int:
    return security.get_int("MaxRequestBytes", DEFAULT_MAX_BODY, minimum=1024,
                            maximum=1024 ** 3)


def check_body(request: Request, limit: int) -> None:
    # Refused before anything reads it; Flask's MAX_CONTENT_LENGTH covers chunked bodies.
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)


def add_headers(response: Response, *, secure: bool) -> None:
    # The names present looked up once: a setdefault per header scans the headers twice.
    present = {name.lower() for name, _ in response.headers.items()}
    wanted = [*SECURITY_HEADERS.items(), *([_HSTS] if secure else [])]
    response.headers.extend([(name, value) for name, value in wanted
                             if name.lower() not in present])


class BannerlessHandler(WSGIRequestHandler):
    """Werkzeug's request handler, saying ``Server: kintone-gateway``: versions help only
    attackers. Pass it to ``werkzeug.serving.make_server(..., request_handler=...)``."""

    def version_string(self) -> str:
        return "kintone-gateway"


def warn_if_exposed(paths: Iterable[Path]) -> None:
    if os.name != "posix":
        return
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("%s can be read or changed by other users (mode %s); it holds secrets "
                        "or decides who may call: chmod 600 %s", path,
                        stat.filemode(mode), path)
