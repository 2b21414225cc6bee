"""Single Kintone writes, each runnable alone or as one sub-request of a ``bulkRequest``.

Lost answers: the Kintone client never resends a write that may have been applied. Here, a
write whose repetition is harmless (an update without a revision check, an upsert by key,
setting assignees, a delete) is sent again after a lost answer; any other (an add, a status
action, a write guarded by a revision) becomes ``WriteOutcomeUnknown`` rather than risk doing
it twice. A delete that finds its record gone after a lost answer has been done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, TypeVar

from ..kintone import BulkItem, KintoneClient, KintoneNotFound, KintoneUnavailable, RetryPolicy
from ..kintone.models import RecordRef
from .errors import outcome_unknown

T = TypeVar("T")
log = logging.getLogger("gateway.writes")


class Write(Protocol):
    done_if_missing: ClassVar[bool]  # a 404 after a lost answer means it was applied

    @property
    def repeatable(self) -> bool:
        """Sending it twice leaves Kintone as sending it once."""

    @property
    def item(self) -> BulkItem: ...

    def run(self, client: KintoneClient) -> RecordRef | None: ...

    def result(self, answer: Mapping[str, Any]) -> RecordRef | None:
        """The outcome from this write's answer inside a bulkRequest."""


@dataclass(frozen=True)
class AddRecord:
    app: int
    record: dict[str, Any]
    related_apps: Mapping[int, str] = field(default_factory=dict)
    repeatable: bool = field(default=False, init=False)
    done_if_missing: ClassVar[bool] = False

    @property
    def item(self) -> BulkItem:
        return BulkItem("POST", "records", {"app": self.app, "records": [self.record]},
                        self.related_apps)

    def run(self, client: KintoneClient) -> RecordRef:
        ref = client.add_records(self.app, [self.record], related_apps=self.related_apps)[0]
        return replace(ref, operation="INSERT")

    def result(self, answer: Mapping[str, Any]) -> RecordRef:
        return RecordRef(int(answer["ids"][0]), int(answer["revisions"][0]), "INSERT")


@dataclass(frozen=True)
class UpdateRecord:
    """An update by ``{"id": n}`` or ``{"updateKey": {field, value}}``; an insert too when
    ``upsert`` and the key matches nothing."""

    app: int
    target: Mapping[str, Any]
    record: dict[str, Any]
    revision: int | None = None
    upsert: bool = False
    related_apps: Mapping[int, str] = field(default_factory=dict)
    done_if_missing: ClassVar[bool] = False

    @property
    def repeatable(self) -> bool:
        return self.revision is None

    @property
    def entry(self) -> dict[str, Any]:
        entry = {**self.target, "record": self.record}
        return entry if self.revision is None else {**entry, "revision": self.revision}

    @property
    def item(self) -> BulkItem:
        payload = {"app": self.app, "records": [self.entry]}
        return BulkItem("PUT", "records", {**payload, "upsert": True} if self.upsert else payload,
                        self.related_apps)

    def run(self, client: KintoneClient) -> RecordRef:
        return client.update_records(self.app, [self.entry], upsert=self.upsert,
                                     related_apps=self.related_apps)[0]

    def result(self, answer: Mapping[str, Any]) -> RecordRef:
        ref = answer["records"][0]
        return RecordRef(int(ref["id"]), int(ref["revision"]), ref.get("operation"))


@dataclass(frozen=True)
class DeleteRecord:
    app: int
    id: int
    revision: int | None = None
    repeatable: bool = field(default=True, init=False)
    done_if_missing: ClassVar[bool] = True

    @property
    def item(self) -> BulkItem:
        payload: dict[str, Any] = {"app": self.app, "ids": [self.id]}
        if self.revision is not None:
            payload["revisions"] = [self.revision]
        return BulkItem("DELETE", "records", payload)

    def run(self, client: KintoneClient) -> None:
        guard = None if self.revision is None else [self.revision]
        client.delete_records(self.app, [self.id], guard)

    def result(self, answer: Mapping[str, Any]) -> None:
        return None


@dataclass(frozen=True)
class UpdateStatus:
    app: int
    id: int
    action: str
    assignee: str | None = None
    revision: int | None = None
    repeatable: bool = field(default=False, init=False)  # a second run moves the status on
    done_if_missing: ClassVar[bool] = False

    @property
    def item(self) -> BulkItem:
        payload = {"app": self.app, "id": self.id, "action": self.action,
                   "assignee": self.assignee, "revision": self.revision}
        return BulkItem("PUT", "record/status", _present(payload))

    def run(self, client: KintoneClient) -> RecordRef:
        revision = client.update_status(self.app, self.id, self.action, assignee=self.assignee,
                                        revision=self.revision)
        return RecordRef(self.id, revision)

    def result(self, answer: Mapping[str, Any]) -> RecordRef:
        return RecordRef(self.id, int(answer["revision"]))


@dataclass(frozen=True)
class SetAssignees:
    app: int
    id: int
    assignees: tuple[str, ...]
    revision: int | None = None
    done_if_missing: ClassVar[bool] = False

    @property
    def repeatable(self) -> bool:
        return self.revision is None

    @property
    def item(self) -> BulkItem:
        payload = {"app": self.app, "id": self.id, "assignees": list(self.assignees),
                   "revision": self.revision}
        return BulkItem("PUT", "record/assignees", _present(payload))

    def run(self, client: KintoneClient) -> RecordRef:
        revision = client.update_assignees(self.app, self.id, self.assignees,
                                           revision=self.revision)
        return RecordRef(self.id, revision)

    def result(self, answer: Mapping[str, Any]) -> RecordRef:
        return RecordRef(self.id, int(answer["revision"]))


def _present(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if value is not None}


def run(write: Write, client: KintoneClient, policy: RetryPolicy) -> RecordRef | None:
    """Run one write; lost answers as the module says."""
    lost = False

    def call() -> RecordRef | None:
        nonlocal lost
        try:
            return write.run(client)
        except KintoneNotFound:
            if write.done_if_missing and lost:
                return None
            raise
        except KintoneUnavailable:
            lost = True
            raise

    return send(call, policy, repeatable=write.repeatable)


def run_group(writes: Sequence[Write], client: KintoneClient,
              policy: RetryPolicy) -> list[RecordRef | None]:
    """Run writes in one bulkRequest: all applied, or none."""
    # A 404 after a lost answer cannot tell which sub-request it is about: no shortcut here.
    repeatable = all(w.repeatable and not w.done_if_missing for w in writes)

    def call() -> list[RecordRef | None]:
        answers = client.bulk_request([w.item for w in writes])
        return [w.result(answer) for w, answer in zip(writes, answers, strict=True)]

    return send(call, policy, repeatable=repeatable)


def send(call: Callable[[], T], policy: RetryPolicy, *, repeatable: bool) -> T:
    """``call()``, sent again after a lost answer when ``repeatable``; otherwise a lost answer
    is ``WriteOutcomeUnknown``."""
    attempt = 0
    while True:
        try:
            return call()
        except KintoneUnavailable as error:
            if not repeatable:
                raise outcome_unknown(error) from error
            if attempt >= policy.retries:
                raise
            wait = policy.delay(attempt, error.retry_after)
            log.warning("No answer to a repeatable write (%s); sending it again in %.2fs",
                        error, wait)
            time.sleep(wait)
            attempt += 1
