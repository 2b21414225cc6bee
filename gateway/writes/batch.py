"""``POST /api.rsc/$batch`` in the OData 4.01 JSON batch format, and in the 4.0 multipart/mixed
format (``multipart``: a changeset is an atomicity group, a Content-ID a request id).

``{"requests": [{"id", "method", "url", "headers"?, "body"?, "atomicityGroup"?,
"dependsOn"?}]}`` → 200 ``{"responses": [{"id", "status", "headers", "body"?,
"atomicityGroup"?}]}``, in request order, run one after another.

* A request outside any group is served as if sent alone (reads included).
* The requests of one atomicity group (adjacent, as OData requires) become one Kintone
  bulkRequest: all applied or none. Only record writes and bound actions can be in a group;
  Kintone takes at most 20 writes in a bulkRequest, so a larger group is refused (400) before
  anything is sent. When a group fails, the request that caused it gets its error and the
  others 424 Failed Dependency.
* ``dependsOn`` names earlier requests or groups: when one of them failed, the request is not
  run (424). A ``url`` may start with ``$<id>`` to mean the entity an earlier request created.
* An entry's ``headers`` cannot say who or where the caller is (``Authorization``, the
  authtoken headers, ``X-Forwarded-*``, ``Forwarded``, ``Origin`` ...): those are dropped, and
  the batch's own hold for every request in it.
* ``url`` is relative to the service root (``Customers(1)``), an absolute path
  (``/api.rsc/Customers``) or an absolute URL.

The reply is streamed: each response is sent once its request ran (an atomicity group's once
the whole group ran), so that the memory a batch holds does not grow with its reply: one
response's body at a time, at most ``[writes] MaxBatchResponseBytes`` (a read whose body is
larger gets 507). A response's body is sent as its request answered it (JSON as is).

Bounded: at most ``[writes] MaxBatchRequests`` requests (default 100), no ``$batch`` inside a
``$batch``, and the reads' bodies together at most ``MaxBatchReplyBytes`` (the bytes, and so
the time, one batch may send; a read past it gets 507 and is not run further; write replies,
a single entity each, are always kept). The requests run in the batch's own slot of the user's
concurrent requests, and their Kintone calls count against the batch's budget (``[gateway]
MaxCallsPerRequest``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import groupby
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, request
from werkzeug.datastructures import Headers
from werkzeug.test import Client

from ..http import cost
from ..kintone import KintoneError
from ..model import UnknownName
from ..odata import media, payload
from ..odata.errors import ODataError, bad_request, not_found
from ..security import IN_BATCH
from ..settings import Settings
from . import multipart, ops
from .context import Writes
from .errors import write_error
from .exchange import Reply, Streamed, WriteRequest, error_reply
from .planning import Planned

MAX_GROUP = 20  # sub-requests in one Kintone bulkRequest
SERVICE_PATH = "/api.rsc/"
_FAILED_AT = re.compile(r"Bulk request (\d+): ")
# What the batch's caller said about itself holds for each request in it.
_PASSED_HEADERS = ("Authorization", "X-Authtoken", "x-cdata-authtoken", "X-Forwarded-For",
                   "Accept-Language")
# Who and where the caller is (what the guard, the audit log and the documents' links read):
# an entry cannot change it, so these headers of an entry are dropped.
_CALLER_HEADERS = frozenset(name.lower() for name in (
    "Authorization", "X-Authtoken", "x-cdata-authtoken", "Cookie", "Origin", "Host",
    "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
    "X-Forwarded-Port", "X-Real-IP"))

Planner = Callable[[Writes, WriteRequest], Planned]


@dataclass(frozen=True)
class Limits:
    requests: int = 100
    reply_bytes: int = 256 * 1024 * 1024
    response_bytes: int = 16 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        number = settings.section("writes").get_int
        return cls(number("MaxBatchRequests", cls.requests, minimum=1, maximum=10_000),
                   number("MaxBatchReplyBytes", cls.reply_bytes, minimum=1024,
                          maximum=64 * 1024 ** 3),
                   number("MaxBatchResponseBytes", cls.response_bytes, minimum=1024,
                          maximum=1024 ** 3))


@dataclass
class _Room:
    """What the batch's reply may still hold, and one response's body at most."""

    bytes: int
    per_response: int

    def fits(self, size: int) -> bool:
        return size <= min(self.bytes, self.per_response)


@dataclass(frozen=True)
class Entry:
    id: str
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    group: str | None = None
    depends_on: tuple[str, ...] = ()


def run(ctx: Writes, req: WriteRequest, *, answer_in_group: Planner) -> Reply:
    limits = Limits.from_settings(ctx.settings)
    content_type = req.headers.get("Content-Type", "")
    in_parts = multipart.is_multipart(content_type)
    body = ({"requests": multipart.requests(req.body, content_type)} if in_parts
            else req.json_object())
    entries = _entries(body, limits.requests)
    # Passed to each sub-request: the batch's budget of Kintone calls, and its slot.
    shared = {cost.ENVIRON_KEY: cost.meter(ctx.settings.gateway.max_calls_per_request),
              IN_BATCH: True}
    room = _Room(limits.reply_bytes, limits.response_bytes)
    answers = _execute(ctx, req, entries, answer_in_group, shared, room)
    if in_parts:
        return multipart.reply(answers)
    outcome: list[dict[str, Any]] = []  # what an idempotent replay of a large reply gets
    return Reply(200, Streamed(_json_reply(answers, outcome), {"responses": outcome}),
                 content_type=media.JSON)


def _execute(ctx: Writes, req: WriteRequest, entries: Sequence[Entry], planner: Planner,
             shared: Mapping[str, Any], room: _Room) -> Iterator[tuple[Entry, Reply]]:
    """Each entry's reply, in order, as it is known; the entries of an atomicity group in one
    bulkRequest, known together."""
    done: dict[str, Reply] = {}  # by request id and group id; without bodies, which are sent
    for group, members in groupby(entries, key=lambda e: e.group):
        if group is None:
            for entry in members:
                reply = _alone(req, entry, done, shared, room)
                done[entry.id] = replace(reply, body=None)
                yield entry, reply
            continue
        batch = list(members)
        replies = _group(ctx, req, batch, done, planner)
        for entry, reply in zip(batch, replies, strict=True):
            done[entry.id] = replace(reply, body=None)
            yield entry, reply
        done[group] = replace(max(replies, key=lambda reply: reply.status), body=None)


def _entries(body: Mapping[str, Any], most: int) -> list[Entry]:
    raw = body.get("requests")
    if not isinstance(raw, list):
        raise bad_request('A JSON batch is {"requests": [...]}.', "requests")
    if len(raw) > most:
        raise bad_request(f"A batch may hold at most {most} requests ([writes] "
                          f"MaxBatchRequests); this one has {len(raw)}.", "requests")
    entries = [_entry(item, i) for i, item in enumerate(raw)]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise bad_request("Request ids in a batch must be unique.", "requests")
    groups = [group for group, _ in groupby(entries, key=lambda e: e.group) if group]
    if len(set(groups)) != len(groups):
        raise bad_request("The requests of an atomicity group must be adjacent.", "requests")
    if set(groups) & set(ids):
        raise bad_request("Atomicity group ids and request ids must differ.", "requests")
    return entries


def _entry(item: Any, index: int) -> Entry:
    target = f"requests[{index}]"
    if not isinstance(item, Mapping):
        raise bad_request(f"{target} must be an object.", target)
    for name in ("id", "method", "url"):
        if not isinstance(item.get(name), str) or not item[name]:
            raise bad_request(f"{target} needs '{name}' (a string).", target)
    headers = item.get("headers") or {}
    depends = item.get("dependsOn") or []
    if not isinstance(headers, Mapping) or not isinstance(depends, list):
        raise bad_request(f"{target}: headers must be an object and dependsOn an array.", target)
    return Entry(item["id"], item["method"].upper(), item["url"],
                 {str(k): str(v) for k, v in headers.items()
                  if str(k).lower() not in _CALLER_HEADERS}, item.get("body"),
                 item.get("atomicityGroup"), tuple(str(d) for d in depends))


def _alone(req: WriteRequest, entry: Entry, done: Mapping[str, Reply],
           shared: Mapping[str, Any], room: _Room) -> Reply:
    """Serve one request through the whole application, as if it came on its own."""
    try:
        _check_dependencies(entry, done)
        if urlsplit(entry.url).path.rstrip("/").rpartition("/")[2] == "$batch":
            raise bad_request("A batch cannot contain another $batch.", entry.id)
        path, query = _target(req, entry.url, done)
    except ODataError as error:
        return error_reply(error)
    headers = Headers({name: request.headers[name] for name in _PASSED_HEADERS
                       if name in request.headers})
    for name, value in entry.headers.items():  # names are case-insensitive: one of each
        headers.set(name, value)
    body, content_type = _body(entry)
    response = Client(current_app).open(
        SERVICE_PATH + path, method=entry.method, query_string=query,
        headers=headers, data=body, content_type=content_type,
        base_url=request.host_url,
        environ_base={"REMOTE_ADDR": request.remote_addr or "", **shared})
    try:
        data = _read(response, room if entry.method == "GET" else None)
        if data is None:
            return error_reply(ODataError.of("BatchReplyTooLarge"))
        return Reply(response.status_code, data or None, _kept_headers(response.headers),
                     response.content_type or media.JSON)
    finally:
        response.close()  # before its end: releases what the read holds (a Kintone cursor)


def _read(response: Any, room: _Room | None) -> bytes | None:
    """The body, or None once it does not fit in ``room`` (None: no limit)."""
    chunks, size = [], 0
    for chunk in response.iter_encoded():
        chunks.append(chunk)
        size += len(chunk)
        if room is not None and not room.fits(size):
            return None
    if room is not None:
        room.bytes -= size
    return b"".join(chunks)


def _group(ctx: Writes, req: WriteRequest, batch: Sequence[Entry], done: Mapping[str, Reply],
           planner: Planner) -> list[Reply]:
    """Plan every request of the group, then run them in one bulkRequest."""
    if len(batch) > MAX_GROUP:
        error = bad_request(f"Atomicity group '{batch[0].group}' has {len(batch)} requests; "
                            f"Kintone runs at most {MAX_GROUP} writes atomically. Split it.")
        return [error_reply(error)] * len(batch)
    planned: list[Planned] = []
    for index, entry in enumerate(batch):
        try:
            _check_dependencies(entry, done)
            planned.append(planner(ctx, _sub_request(req, entry, done)))
        except ODataError as error:
            return _failed(len(batch), index, error)
        except UnknownName as error:
            return _failed(len(batch), index, not_found(str(error.args[0])))
    try:
        refs = ops.run_group([p.write for p in planned], ctx.client, ctx.retry)
    except KintoneError as error:
        failed = _failed_index(error)
        entity_set = planned[failed].entity_set if failed is not None else None
        return _failed(len(batch), failed, write_error(entity_set, error))
    except ODataError as error:  # the outcome of the whole group is unknown
        return [error_reply(error)] * len(batch)
    return [p.finish(ref) for p, ref in zip(planned, refs, strict=True)]


def _failed(size: int, index: int | None, error: ODataError) -> list[Reply]:
    """The failing request's error; 424 for the others (all of them when it is unknown)."""
    dependency = error_reply(ODataError.of("FailedDependency", message="Not applied: another "
                                           "request of the atomicity group failed."))
    if index is None:
        return [error_reply(error)] * size
    return [error_reply(error) if i == index else dependency for i in range(size)]


def _failed_index(error: KintoneError) -> int | None:
    # The client reports which sub-request failed in the message ("Bulk request 2: ...").
    match = _FAILED_AT.match(error.message)
    return int(match.group(1)) if match else None


def _check_dependencies(entry: Entry, done: Mapping[str, Reply]) -> None:
    for dependency in entry.depends_on:
        if dependency not in done:
            raise bad_request(f"Request '{entry.id}' depends on '{dependency}', which does not "
                              f"come before it.", entry.id)
        if done[dependency].status >= 400:
            raise ODataError.of("FailedDependency", message=f"Not run: '{dependency}' failed.")


def _sub_request(req: WriteRequest, entry: Entry, done: Mapping[str, Reply]) -> WriteRequest:
    path, query = _target(req, entry.url, done)
    body, content_type = _body(entry)
    headers = Headers(entry.headers)
    if content_type and "Content-Type" not in headers:
        headers["Content-Type"] = content_type
    return WriteRequest(entry.method, path, headers, body, req.root, query)


def _target(req: WriteRequest, url: str, done: Mapping[str, Reply]) -> tuple[str, str]:
    """The path after ``/api.rsc/`` (decoded) and the raw query of a request's ``url``."""
    if url.startswith("$"):
        name, _, rest = url[1:].partition("/")
        location = done[name].headers.get("Location") if name in done else None
        if location is None:
            raise bad_request(f"'${name}' does not name an earlier request that created an "
                              f"entity (the requests of one atomicity group or changeset go to "
                              f"Kintone together: none can use another's result).", name)
        url = f"{location}/{rest}" if rest else location
    parts = urlsplit(url)
    root_path = urlsplit(req.root).path.rstrip("/") + "/"
    path = parts.path
    if path.startswith(root_path):
        path = path[len(root_path):]
    elif path.startswith(SERVICE_PATH):
        path = path[len(SERVICE_PATH):]
    elif path.startswith("/") or parts.scheme:
        raise bad_request(f"'{url}' is not a URL of this service.")
    else:
        token = urlsplit(req.root).path[len(SERVICE_PATH):]
        path = f"{token}/{path}" if token else path
    return unquote(path), parts.query


def _body(entry: Entry) -> tuple[bytes, str | None]:
    if entry.body is None:
        return b"", None
    if isinstance(entry.body, str):
        return entry.body.encode(), entry.headers.get("Content-Type", "text/plain")
    return payload.dumps(entry.body).encode(), media.JSON


def _kept_headers(headers: Headers) -> dict[str, str]:
    skipped = {"content-length", "odata-version", "content-type"}
    return {name: value for name, value in headers.items() if name.lower() not in skipped}


def _json_reply(answers: Iterator[tuple[Entry, Reply]], outcome: list[dict[str, Any]]
                ) -> Iterator[bytes]:
    """``{"responses": [...]}``, one response at a time; each one's status and headers are
    also noted in ``outcome``."""
    yield b'{"responses":['
    for n, (entry, reply) in enumerate(answers):
        head = _response_head(entry, reply)
        outcome.append(head)
        yield (b"," if n else b"") + _response(head, reply)
    yield b"]}"


def _response_head(entry: Entry, reply: Reply) -> dict[str, Any]:
    response: dict[str, Any] = {"id": entry.id, "status": reply.status}
    if entry.group is not None:
        response["atomicityGroup"] = entry.group
    headers = dict(reply.headers)
    if reply.body is not None:
        headers["Content-Type"] = reply.content_type
    response["headers"] = headers
    return response


def _response(head: dict[str, Any], reply: Reply) -> bytes:
    """The response object: ``head`` and the body, a JSON one as it was sent."""
    encoded = payload.dump_bytes(head)
    if reply.body is None:
        return encoded
    return encoded[:-1] + b',"body":' + _json_body(reply) + b"}"


def _json_body(reply: Reply) -> bytes:
    if not isinstance(reply.body, bytes):  # a planned write's entity, JSON-ready
        return payload.dump_bytes(reply.body)
    if reply.content_type.split(";")[0].strip() == media.JSON:
        return reply.body
    return payload.dump_bytes(reply.body.decode("utf-8", "replace"))
