"""Plain results of Kintone calls. Records and settings stay Kintone's own JSON dicts; only the
envelopes around them become dataclasses, with Kintone's string numbers turned into ints."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .layout import Row

Record = dict[str, Any]  # field code -> {"type": ..., "value": ...}
ID, REVISION = "$id", "$revision"  # every record has them, whatever its fields' codes


def record_id(record: Record | Row) -> int:
    """A record's ``$id``, whether parsed into dicts or decoded through a ``layout``."""
    return int(record[ID]["value"]) if isinstance(record, dict) else record.id


@dataclass(frozen=True)
class RecordPage:
    records: list[Record]
    total_count: int | None  # only when asked for


@dataclass(frozen=True)
class RecordRef:
    """A written record: its id and new revision; ``operation`` (INSERT/UPDATE) for upserts."""

    id: int
    revision: int
    operation: str | None = None


@dataclass(frozen=True)
class CommentPage:
    comments: list[dict[str, Any]]
    older: bool  # more comments exist in the older direction
    newer: bool  # ... and in the newer direction


@dataclass(frozen=True)
class Cursor:
    id: str
    app: int  # which API token reads it
    total_count: int


@dataclass(frozen=True)
class CursorPage:
    records: list[Record]
    next: bool  # False: this was the last page and Kintone has released the cursor


@dataclass(frozen=True)
class BulkItem:
    """One sub-request of ``bulk_request``; ``api`` as for the client, e.g. ``"records"``.
    ``related_apps``: other apps whose API tokens it needs (lookup sources), mapped to why."""

    method: str
    api: str
    payload: dict[str, Any] = field(default_factory=dict)
    related_apps: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileDownload:
    """A file being downloaded: iterate ``chunks`` once, then ``close`` (also when abandoned)."""

    content_type: str
    disposition: str | None  # Kintone's Content-Disposition, with the file's name
    size: int | None
    chunks: Iterator[bytes]
    close: Callable[[], None]
