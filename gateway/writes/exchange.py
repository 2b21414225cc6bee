"""A write request as the write modules see it, and their reply, both plain data.

Requests come from Flask or from a ``$batch`` entry; replies go out as Flask responses, inside a
``$batch`` answer, or back out of the idempotency store, so neither may be tied to Flask. A
reply's body may be streamed (an iterator of bytes, e.g. ``$bulk``'s per-row results).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request, stream_with_context
from werkzeug.datastructures import Headers

from ..http.cost import ClientGone
from ..odata import bodies, links, media, payload
from ..odata.errors import ODataError, bad_request
from ..odata.resource import ResourcePath
from ..settings import Settings

log = logging.getLogger("gateway.writes")

_ETAG = re.compile(r'\s*(?:W/)?"([0-9]{1,19})"\s*', re.ASCII)
TRUNCATED_HEADER = "Kintone-Truncated"


@dataclass(frozen=True)
class WriteRequest:
    method: str
    path: str  # after /api.rsc/, percent-decoded, with any @authtoken segment
    headers: Headers
    body: bytes
    root: str  # the absolute service root
    query: str = ""  # raw query string

    @classmethod
    def current(cls, path: str, settings: Settings) -> WriteRequest:
        return cls(request.method, path, Headers(request.headers), request.get_data(),
                   service_root(settings, request.host_url, path),
                   request.query_string.decode("utf-8", "replace"))

    def json(self) -> Any:
        """The body as JSON; numbers with a fraction as ``Decimal``, so no digit is lost."""
        if not self.body.strip():
            raise bad_request("The request needs a JSON body.")
        try:
            return bodies.load(self.body)
        except bodies.BodyError as exc:
            raise bad_request(str(exc)) from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        return body

    @property
    def json_format(self) -> media.JsonFormat:
        return media.negotiate_json(self.headers.get("Accept"))

    def revision(self) -> int | None:
        """The revision ``If-Match`` requires (None: no check, or ``*``); an ETag that is not
        one of ours can never match."""
        value = self.headers.get("If-Match")
        if value is None or value.strip() == "*":
            return None
        match = _ETAG.fullmatch(value)
        if match is None:
            raise ODataError.of("PreconditionFailed",
                                message=f"The ETag {value} in If-Match is not a record's ETag.")
        return int(match.group(1))

    def prefers(self, preference: str) -> bool:
        """Whether ``Prefer`` asks for ``return=minimal`` / ``return=representation``."""
        return media.prefers(self.headers.get("Prefer"), preference)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # JSON-ready (``payload.dumps``), bytes, an Iterator of bytes, or None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = media.JSON

    def response(self) -> Response:
        if self.body is None:
            response = Response(status=self.status, headers=dict(self.headers))
            del response.headers["Content-Type"]  # no body, no type (Flask would say HTML)
            return response
        if isinstance(self.body, Iterator):
            return Response(stream_with_context(_streamed(self.body)), status=self.status,
                            headers=dict(self.headers), content_type=self.content_type)
        data = self.body if isinstance(self.body, bytes) else payload.dumps(self.body)
        return Response(data, status=self.status, headers=dict(self.headers),
                        content_type=self.content_type)


class Streamed(Iterator[bytes]):
    """A streamed body that knows, once sent, its ``outcome``: what is kept of it when it is
    too large to keep whole (JSON-ready, e.g. a ``$batch``'s statuses and headers)."""

    def __init__(self, chunks: Iterator[bytes], outcome: Any = None) -> None:
        self._chunks = chunks
        self.outcome = outcome

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        """Stop early (the client left): what the chunks hold is released."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


def _streamed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks until the client leaves. A failure once the status is sent can only cut the
    body short (the client then sees invalid JSON, never a silently incomplete reply)."""
    try:
        yield from chunks
    except ClientGone:
        log.info("The client went away; its streamed reply was stopped")
    except Exception:
        log.exception("A streamed reply was cut short")
        raise


def error_reply(error: ODataError) -> Reply:
    return Reply(error.status, error.body(), error.headers)


def service_root(settings: Settings, host_url: str, path: str) -> str:
    first = path.split("/", 1)[0]
    token = first[1:] if first.startswith("@") else None
    return links.service_root(settings, host_url, ResourcePath("service", token))


def etag(revision: int) -> str:
    return f'W/"{revision}"'
