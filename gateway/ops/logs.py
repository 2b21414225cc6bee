"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

The id is the caller's ``X-Request-Id`` when it sent a sane one (a load balancer's or a client's
own), else a new one; it goes back in the response's ``X-Request-Id`` header. Kintone has no
header for such an id and keeps no log the gateway's administrator can read, so it cannot carry
the id itself: instead every failed Kintone call is logged with the request id *and* Kintone's
own error id (the ``id`` of its error answer, which Cybozu's support asks for), which ties the two
sides together.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger

from ..events import KintoneCallFailed, Stream

HEADER = "X-Request-Id"
ENVIRON_KEY = "HTTP_X_REQUEST_ID"
AUDIT_LOGGER = "gateway.audit"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # nothing that could forge a log line or header

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                          default=None)
log = logging.getLogger("gateway.kintone")


def request_id_for(environ: dict) -> str:
    """The caller's request id when it is sane, else a fresh one."""
    sent = environ.get(ENVIRON_KEY, "")
    return sent if _SANE.fullmatch(sent) else uuid.uuid4().hex


def bind(request_id: str) -> contextvars.Token:
    """Tag the log lines of this thread with ``request_id`` until ``unbind``."""
    return _request_id.set(request_id)


def unbind(token: contextvars.Token) -> None:
    _request_id.reset(token)


def current_request_id() -> str | None:
    return _request_id.get()


def subscribe(events: Stream) -> None:
    """Log every failed Kintone call ``events`` tells of."""
    events.subscribe(KintoneCallFailed, log_kintone_failure)


def log_kintone_failure(failure: KintoneCallFailed) -> None:
    """The line that ties a request to Kintone's error id."""
    log.info("Kintone call failed: %s (Kintone error id %s%s)", failure.message,
             failure.error_id or "-", "; sent again" if failure.retried else "")


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "request_id", "message" | "audit", "exception"}``.

    The audit logger's messages are JSON objects already: they are nested as ``audit``, so that
    log processors get their fields rather than a string to parse again.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        request_id = current_request_id()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update(_message(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _message(record: logging.LogRecord) -> dict[str, Any]:
    message = record.getMessage()
    if record.name == AUDIT_LOGGER:
        try:
            return {"audit": json.loads(message)}
        except ValueError:
            pass
    return {"message": message}


class GunicornLogger(Logger):
    """gunicorn's logger without access lines: the audit log has every request. Given a logging
    configuration, gunicorn's own builds an access line's fields for every response, even when
    nothing writes them."""

    access_log_enabled = False

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` that sends everything, gunicorn's own lines included, to
    stderr as JSON."""
    handler = {"class": "logging.StreamHandler", "formatter": "json",
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"console": handler, "error_console": handler},
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            # The audit log has every request, with more than an access line would say.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
