"""The OData 4.0 multipart/mixed ``$batch`` format (Part 1, §11.7), mapped onto the JSON batch.

Each top-level part is an ``application/http`` request, or a changeset: a nested
``multipart/mixed`` of write requests, all applied or none. A changeset becomes an atomicity group
(one Kintone bulkRequest), a part's ``Content-ID`` its request id, so that a later request's URL
may start with ``$<Content-ID>`` (the entity an earlier request created). The answer has one part
per request, in order, with its status line and headers; a changeset's answers are a nested
multipart with the Content-IDs echoed, or, when the changeset failed, the one response that
says why (as §11.7.4 asks; the requests that were not applied are not listed).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from itertools import groupby
from typing import TYPE_CHECKING, Any

from ..odata import payload
from ..odata.errors import bad_request
from .exchange import Reply, Streamed

if TYPE_CHECKING:
    from .batch import Entry

MULTIPART = "multipart/mixed"
_REQUEST_LINE = re.compile(r"([A-Za-z]+) +(\S+)(?: +HTTP/1\.[01])?")
_HEAD_END = re.compile(rb"\r?\n\r?\n")


def is_multipart(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == MULTIPART


def requests(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The batch's requests as JSON batch request objects (``id``, ``method``, ``url`` ...)."""
    batch = _message(body, content_type)
    out: list[dict[str, Any]] = []
    for index, part in enumerate(batch.get_payload()):
        if is_multipart(part.get_content_type()):
            group = f"changeset{index}:{part.get_boundary()}"
            changes = [_request(change, f"{index}.{n}", group)
                       for n, change in enumerate(part.get_payload())]
            if not changes:
                raise bad_request(f"The changeset in part {index} is empty.")
            out.extend(changes)
        else:
            out.append(_request(part, str(index), None))
    return out


def _message(body: bytes, content_type: str) -> Message:
    if "boundary=" not in content_type.lower():
        raise bad_request("A multipart/mixed batch needs a boundary in its Content-Type.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects or not message.get_payload():
        raise bad_request("The multipart/mixed batch body is malformed or empty.")
    return message


def _request(part: Message, position: str, group: str | None) -> dict[str, Any]:
    if part.get_content_type() != "application/http" or part.is_multipart():
        raise bad_request(f"Batch part {position} must be application/http (or a changeset).")
    payload = part.get_payload(decode=True)  # bytes: an application/http part is not multipart
    method, url, headers, body = _http_request(payload if isinstance(payload, bytes) else b"",
                                               position)
    if group is not None and method.upper() == "GET":
        raise bad_request(f"Batch part {position}: a changeset holds only writes; send the GET "
                          f"outside it.")
    content_id = part.get("Content-ID")
    request: dict[str, Any] = {
        "id": str(content_id).strip() if content_id else f"#{position}",
        "method": method, "url": url, "headers": headers,
    }
    if body:
        request["body"] = body
    if group is not None:
        request["atomicityGroup"] = group
    return request


def _http_request(raw: bytes, position: str) -> tuple[str, str, dict[str, str], str]:
    """The method, URL, headers and body (text) of a part's embedded HTTP request."""
    head, body = [*_HEAD_END.split(raw.lstrip(b"\r\n"), maxsplit=1), b""][:2]
    first, *lines = _text(head, position).splitlines() or [""]
    line = _REQUEST_LINE.fullmatch(first.strip())
    if line is None:
        raise bad_request(f"Batch part {position} does not start with a request line.")
    headers = {}
    for header in lines:
        name, colon, value = header.partition(":")
        if not colon:
            raise bad_request(f"Batch part {position} has a malformed header line.")
        headers[name.strip()] = value.strip()
    return line.group(1), line.group(2), headers, _text(body, position).strip("\r\n")


def _text(data: bytes, position: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request(f"Batch part {position} is not UTF-8.") from None


def reply(answers: Iterable[tuple[Entry, Reply]]) -> Reply:
    """The multipart/mixed answer to the batch, streamed a part at a time (a changeset's once
    all its requests ran)."""
    boundary = f"batchresponse_{uuid.uuid4()}".encode()
    return Reply(200, Streamed(_parts(answers, boundary)),
                 content_type=f"{MULTIPART}; boundary={boundary.decode()}")


def _parts(answers: Iterable[tuple[Entry, Reply]], boundary: bytes) -> Iterator[bytes]:
    for group, members in groupby(answers, key=lambda answer: answer[0].group):
        if group is None:
            for answer in members:  # each request runs as its part is due
                yield _delimited(boundary, _http_part(*answer))
        else:
            yield _delimited(boundary, _changeset(list(members)))
    yield b"--" + boundary + b"--\r\n"


def _changeset(members: list[tuple[Entry, Reply]]) -> bytes:
    failures = [(entry, r) for entry, r in members if r.status >= 400]
    if failures:  # the request that failed, not those it kept from being applied (424)
        return _http_part(*next((f for f in failures if f[1].status != 424), failures[0]))
    boundary = f"changesetresponse_{uuid.uuid4()}"
    inner = b"".join(b"--" + boundary.encode() + b"\r\n" + _http_part(entry, r) + b"\r\n"
                     for entry, r in members)
    return (f"Content-Type: {MULTIPART}; boundary={boundary}\r\n\r\n".encode() + inner
            + b"--" + boundary.encode() + b"--")


def _http_part(entry: Entry, answer: Reply) -> bytes:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if not entry.id.startswith("#"):
        head.append(f"Content-ID: {entry.id}")
    lines = [f"HTTP/1.1 {answer.status} {_phrase(answer.status)}".rstrip()]
    lines += [f"{name}: {value}" for name, value in answer.headers.items()]
    body = b""
    if answer.body is not None:
        lines.append(f"Content-Type: {answer.content_type}")
        body = _bytes(answer.body)
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode() + body


def _delimited(boundary: bytes, part: bytes) -> bytes:
    return b"--" + boundary + b"\r\n" + part + b"\r\n"


def _bytes(body: Any) -> bytes:
    """A reply's body as sent: raw text (``/$count``) as is, JSON-ready data as JSON."""
    if isinstance(body, bytes):
        return body
    return body.encode() if isinstance(body, str) else payload.dumps(body).encode()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
