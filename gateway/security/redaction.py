"""Authtokens out of logged URLs: ``/@TOKEN/`` path segments and ``@authtoken=`` parameters,
and the ``access=`` capability of document-only URLs."""

from __future__ import annotations

import logging
import re

MASK = "***"
_PATH_TOKEN = re.compile(r"/@[^/?#\s\"]+")
_QUERY_TOKEN = re.compile(r"([?&](?:(?:@|%40)authtoken|access)=)[^&#\s\"]*", re.IGNORECASE)
# Loggers that write request lines: the development server's and gunicorn's access log.
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")


def redact(text: str) -> str:
    return _QUERY_TOKEN.sub(rf"\g<1>{MASK}", _PATH_TOKEN.sub(f"/@{MASK}", text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


_FILTER = RedactingFilter()


def redact_request_logs() -> None:
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
