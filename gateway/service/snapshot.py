"""What the model is built from, as one document several gateway instances can share.

A model costs one ``fields.json`` per exposed app, and so does each check of whether the apps
changed: with several instances (or workers) that is as many reads of the domain's shared
quota. A ``SchemaStore`` (Redis, ``gateway.ops.snapshots``) keeps the last ``Snapshot`` read,
so that an instance builds its model from it without calling Kintone, and lets one instance at
a time check the apps for all of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from ..settings import KintoneSettings

FORMAT = 1  # bumped when the document changes shape: an instance of another version reads
# Kintone instead of misreading it

Forms = list[tuple[dict, dict]]  # each exposed app's object and its fields.json body


@dataclass(frozen=True)
class Snapshot:
    """Everything a model and the client's routing are made of."""

    forms: Forms
    guest_spaces: dict[int, int] = field(default_factory=dict)  # app id -> its guest space
    spaces: dict[int, bool] = field(default_factory=dict)  # space id -> guest (find_apps)

    def to_json(self) -> bytes:
        return orjson.dumps({"format": FORMAT, "forms": self.forms,
                             "guestSpaces": self.guest_spaces, "spaces": self.spaces},
                            option=orjson.OPT_NON_STR_KEYS)

    @classmethod
    def from_json(cls, data: bytes) -> Snapshot | None:
        """The snapshot, or None when ``data`` is not one of this version's."""
        try:
            document = orjson.loads(data)
            if document["format"] != FORMAT:
                return None
            return cls([(app, form) for app, form in document["forms"]],
                       {int(app): int(space) for app, space in document["guestSpaces"].items()},
                       {int(space): bool(guest) for space, guest in document["spaces"].items()})
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            return None


class SchemaStore(Protocol):
    """Where the instances of a cluster share the snapshot. Its answers stand for Redis'
    (e.g. a failing Redis: no snapshot, and the check is this instance's to run)."""

    def get(self) -> bytes | None:
        """The snapshot last put, unless it expired (after ``[gateway] SchemaCacheTTL``)."""

    def put(self, snapshot: bytes) -> None:
        """Keep ``snapshot`` for the others (until the TTL)."""

    def claim_check(self) -> bool:
        """Whether this instance checks the apps for all of them now: at most one claim is
        granted per TTL."""


def snapshot_scope(settings: KintoneSettings) -> str:
    """A name for what a snapshot was read for: gateways in front of one domain share a Redis
    prefix, and their settings may expose other apps, or read them as another user."""
    basis = orjson.dumps([settings.url, settings.auth_scheme.value, settings.user,
                          sorted(settings.api_tokens), list(settings.apps),
                          list(settings.guest_space_ids)])
    return hashlib.sha256(basis).hexdigest()[:16]
