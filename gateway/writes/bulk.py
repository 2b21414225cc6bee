"""Reverse-ETL loads: ``POST /api.rsc/<Set>/$bulk?mode=insert|update|upsert&key=<Property>``
with a JSON array of entity bodies (thousands of rows), answered with one result per row.

* ``insert`` adds each row; ``update`` changes the record named by the row's ``key`` value (an
  alternate key, see ``upsert``) or, without ``key``, by its ``Id``; ``upsert`` updates the
  record with the row's ``key`` value (or ``Id``) or adds one.
* Rows go to Kintone 100 at a time. A Kintone call is all-or-nothing, so a chunk that Kintone
  refuses is not given up: rows Kintone names in its validation errors are failed with those
  errors and the rest is sent again; a refusal that names no row is narrowed down by halving
  the chunk. Every row ends written or failed with its own error, never in between.
* Lost answers: ``update`` and ``upsert`` rows are sent again (writing the same values twice
  changes nothing); ``insert`` rows with a ``key`` are looked up by their key values and sent
  again only when absent. ``insert`` rows without a key whose answer was lost are failed with
  ``WriteOutcomeUnknown``: only a key could tell whether they were written.
* Bounded: at most ``[writes] MaxBulkRows`` rows (default 10,000; more: 400 before anything is
  written), so at most MaxBulkRows / 100 write calls, and one more per 1,000 rows when failing
  rows keep chunks from filling (and the halving of refused chunks, within ``[gateway]
  MaxCallsPerRequest``); a row without any value fails on its own, costing no call.
* A row that cannot be sent (or a chunk that fails in an unforeseen way) fails alone: the rows
  written before and after it keep their results, and the answer is still 200.
* The answer (200): ``{"results": [{"index", "status", "id"?, "revision"?, "operation"?
  (INSERT/UPDATE), "truncated"?, "error"?}], "inserted", "updated", "failed"}``, results in row
  order. After a lost answer an upserted row may read UPDATE even if the first attempt
  inserted it.
* Streamed: the body is parsed whole (it is size-capped), but the answer goes out chunk by
  chunk as the rows are written, so that it is never held whole (the counts, known last, come
  after the results). A client that leaves stops the load before its next Kintone call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs

from ..http.cost import ClientGone
from ..kintone import (
    KintoneError,
    KintoneThrottled,
    KintoneUnavailable,
    KintoneValidationError,
    quote,
)
from ..kintone.models import RecordRef
from ..model import EntitySet, Property
from ..odata import payload
from ..odata.errors import ODataError, bad_request
from ..odata.numbers import json_int64
from ..odata.resource import ResourcePath
from ..security import require
from . import values
from .context import Writes
from .errors import invalid_values, outcome_unknown, problems, write_error
from .exchange import Reply, WriteRequest
from .ops import send
from .planning import record_set, related_apps
from .upsert import alternate_keys

log = logging.getLogger("gateway.writes")

CHUNK = 100
WINDOW = 10 * CHUNK
MAX_ROWS = 10_000
# The privileges a load needs, as CData API Server names them.
MODES = {"insert": ("POST",), "update": ("PUT",), "upsert": ("POST", "PUT")}


@dataclass(frozen=True)
class Row:
    """A row ready for Kintone: an entry of records.json (POST: the record; PUT: ``{id |
    updateKey, record}``) and its key value (for insert reconciliation)."""

    index: int
    entry: dict[str, Any]
    key_value: Any = None
    truncated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    index: int
    status: int
    id: int | None = None
    revision: int | None = None
    operation: str | None = None
    truncated: tuple[str, ...] = ()
    error: dict[str, Any] | None = None

    def json(self) -> dict[str, Any]:
        fields = {"index": self.index, "status": self.status, "id": self.id,
                  "revision": self.revision, "operation": self.operation,
                  "truncated": list(self.truncated) or None, "error": self.error}
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class Load:
    ctx: Writes
    entity_set: EntitySet
    mode: str
    key: Property | None
    results: dict[int, Result] = field(default_factory=dict)

    @property
    def app(self) -> int:
        assert self.entity_set.app_id is not None
        return self.entity_set.app_id

    # -- rows --

    def row(self, index: int, body: Any) -> Row:
        if not isinstance(body, Mapping):
            raise bad_request("A row must be a JSON object.")
        if not body:
            raise bad_request("The row has no values.")
        body = dict(body)
        key_value = None
        target: dict[str, Any] = {}
        if self.key is not None:
            if body.get(self.key.name) is None:
                raise bad_request(f"The row has no {self.key.name} (the key).", self.key.name)
            key_value = values.to_value(self.key, body[self.key.name])
            if self.mode == "insert":
                _check_lookup(self.key, key_value)
            else:
                del body[self.key.name]
                target = {"updateKey": {"field": self.key.kintone_code, "value": key_value}}
        elif self.mode != "insert":
            target = {"id": _record_id(body.pop("Id", None))}
        converted = values.to_record(self.entity_set.entity_type, body)
        entry = {**target, "record": converted.record} if target else converted.record
        return Row(index, entry, key_value, converted.truncated)

    # -- sending --

    def send(self, rows: Sequence[Row]) -> None:
        """Write ``rows`` (≤ 100), recording a result for each."""
        if not rows:
            return
        try:
            refs = self._write(rows)
        except KintoneValidationError as error:
            self._refused(rows, error)
        except ODataError as error:  # a lost answer nobody could resolve
            self.fail(rows, error)
        except (KintoneUnavailable, KintoneThrottled) as error:
            # Throttled: not written. Unavailable: an update or upsert may be sent again;
            # an insert whose answer was lost and could not be checked is unknown.
            unknown = isinstance(error, KintoneUnavailable) and self.mode == "insert"
            self.fail(rows, outcome_unknown(error) if unknown
                      else write_error(self.entity_set, error))
        except KintoneError as error:
            self._narrow(rows, error)
        else:
            self._written(rows, refs)

    def _write(self, rows: Sequence[Row]) -> list[RecordRef]:
        entries = [row.entry for row in rows]
        written = entries if self.mode == "insert" else [entry["record"] for entry in entries]
        related = related_apps(self.entity_set, written)
        client = self.ctx.client
        if self.mode == "insert":
            return self._insert(rows, lambda: client.add_records(self.app, entries,
                                                                 related_apps=related))
        return send(lambda: client.update_records(self.app, entries,
                                                  upsert=self.mode == "upsert",
                                                  related_apps=related),
                    self.ctx.retry, repeatable=True)

    def _insert(self, rows: Sequence[Row], call: Callable[[], list[RecordRef]]
                ) -> list[RecordRef]:
        """Add the rows; after a lost answer, find out by key whether they were added (a
        records.json call is all-or-nothing) and send them again only if not."""
        policy = self.ctx.retry
        if self.key is None:
            return send(call, policy, repeatable=False)
        attempt = 0
        while True:
            try:
                return call()
            except KintoneUnavailable as error:
                log.warning("No answer to adding %d records (%s); looking them up by %s",
                            len(rows), error, self.key.name)
                found = self._existing([row.key_value for row in rows])
                if all(row.key_value in found for row in rows):
                    return [found[row.key_value] for row in rows]
                if found or attempt >= policy.retries:  # found some: another writer is at work
                    raise outcome_unknown(error) from error
                time.sleep(policy.delay(attempt))
                attempt += 1

    def _existing(self, keys: Sequence[Any]) -> dict[Any, RecordRef]:
        assert self.key is not None and self.key.kintone_code is not None
        code = self.key.kintone_code
        literals = ", ".join(quote(str(value)) for value in keys)
        page = self.ctx.client.get_records(self.app, f"{code} in ({literals}) limit 500",
                                           ["$id", "$revision", code])
        return {record[code]["value"]: RecordRef(int(record["$id"]["value"]),
                                                 int(record["$revision"]["value"]), "INSERT")
                for record in page.records}

    # -- outcomes --

    def _written(self, rows: Sequence[Row], refs: Sequence[RecordRef]) -> None:
        for row, ref in zip(rows, refs, strict=True):
            operation = ref.operation or ("INSERT" if self.mode == "insert" else "UPDATE")
            self.results[row.index] = Result(row.index, 201 if operation == "INSERT" else 200,
                                             ref.id, ref.revision, operation, row.truncated)

    def _refused(self, rows: Sequence[Row], error: KintoneValidationError) -> None:
        """Fail the rows Kintone names and send the others again (nothing was written)."""
        by_row: dict[int, list[dict]] = {}
        for problem in problems(self.entity_set, error):
            if problem.index is not None and problem.index < len(rows):
                by_row.setdefault(problem.index, []).append(problem.detail())
        if not by_row:
            self._narrow(rows, error)
            return
        for position, details in by_row.items():
            self.fail([rows[position]], invalid_values(details))
        self.send([row for i, row in enumerate(rows) if i not in by_row])

    def _narrow(self, rows: Sequence[Row], error: KintoneError) -> None:
        """A refusal that names no row: halve the chunk until the culprits stand alone."""
        if len(rows) == 1:
            self.fail(rows, write_error(self.entity_set, error))
            return
        middle = len(rows) // 2
        self.send(rows[:middle])
        self.send(rows[middle:])

    def fail(self, rows: Sequence[Row], error: ODataError) -> None:
        for row in rows:
            self.results[row.index] = Result(row.index, error.status, truncated=row.truncated,
                                             error=error.body()["error"])


def load(ctx: Writes, req: WriteRequest, resource: ResourcePath) -> Reply:
    if resource.kind != "collection":
        raise bad_request("$bulk follows an entity set: /<Set>/$bulk.")
    entity_set = record_set(ctx.models(), resource)
    options = {name: found[-1] for name, found in parse_qs(req.query).items()}
    mode = options.get("mode", "insert")
    if mode not in MODES:
        raise bad_request(f"mode must be one of {', '.join(MODES)}.", "mode")
    for method in MODES[mode]:
        require(method, entity_set.name)
    job = Load(ctx, entity_set, mode, _key(entity_set, options.get("key")))
    rows = req.json()
    if not isinstance(rows, list):
        raise bad_request("The body of $bulk is a JSON array of rows.")
    most = ctx.settings.section("writes").get_int("MaxBulkRows", MAX_ROWS, minimum=1,
                                                  maximum=1_000_000)
    if len(rows) > most:
        raise bad_request(f"$bulk takes at most {most} rows ([writes] MaxBulkRows); this body "
                          f"has {len(rows)}. Send them in several requests.")
    return Reply(200, _streamed(job, rows))


def _streamed(job: Load, rows: Sequence[Any]) -> Iterator[bytes]:
    """The answer, written as the load goes: each chunk's results go out once Kintone has
    answered for it and are then forgotten, so that a load holds at most a window of results,
    however many rows it has. The counts come last, when they are known."""
    counts = {"inserted": 0, "updated": 0, "failed": 0}
    opening = b'{"results":['
    sent = 0
    for end, chunk in _chunks(job, rows):
        _send(job, chunk)
        results = [job.results.pop(index) for index in range(sent, end)]
        for result in results:
            counts[_kind(result)] += 1
        yield opening + (b"," if sent else b"") + b",".join(
            payload.dump_bytes(result.json()) for result in results)
        opening, sent = b"", end
    yield opening + b"]," + payload.dump_bytes(counts)[1:]


def _chunks(job: Load, rows: Sequence[Any]) -> Iterator[tuple[int, list[Row]]]:
    """The rows to send, up to a chunk at a time, each with the index following the rows it
    settles; a row that cannot be sent fails on the way. Rows failing among the ones waiting
    for a full chunk are held at most a ``WINDOW``: then the chunk goes out partly filled."""
    ready: list[Row] = []
    start = 0
    for index, body in enumerate(rows):
        try:
            ready.append(job.row(index, body))
        except ODataError as error:
            job.fail([Row(index, {})], replace(error, message=f"Row {index}: {error.message}"))
        if len(ready) == CHUNK or index + 1 - start == WINDOW:
            yield index + 1, ready
            ready, start = [], index + 1
    if start < len(rows):
        yield len(rows), ready


def _send(job: Load, chunk: list[Row]) -> None:
    try:
        job.send(chunk)
    except ClientGone:  # nobody to report to: stop
        raise
    except Exception:  # whatever went wrong, the rows written so far stay reported
        log.exception("A $bulk chunk failed unexpectedly")
        job.fail([row for row in chunk if row.index not in job.results], ODataError.of(
            "InternalError", message="The gateway failed while writing this row, which may "
            "or may not have been written: check before sending it again."))


def _kind(result: Result) -> str:
    if result.error:
        return "failed"
    return "inserted" if result.operation == "INSERT" else "updated"


def _key(entity_set: EntitySet, name: str | None) -> Property | None:
    if name is None:
        return None
    keys = {prop.name: prop for prop in alternate_keys(entity_set.entity_type)}
    if name not in keys:
        raise bad_request(f"'{name}' is not an alternate key of {entity_set.name} (alternate "
                          f"keys: {', '.join(keys) or 'none'}).", "key")
    return keys[name]


def _check_lookup(key: Property, value: Any) -> None:
    """An inserted row must be findable by its key after a lost answer (see ``_insert``)."""
    try:
        quote(str(value))
    except ValueError as exc:
        raise bad_request(f"{key.name} cannot be a key here: {exc}.", key.name) from None


def _record_id(value: Any) -> int:
    number = json_int64(value)
    if number is None or number < 1:
        raise bad_request("The row needs its Id (or use key=<alternate key>).", "Id")
    return number
