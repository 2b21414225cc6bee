"""The sandbox's clock: real time by default, pinned or shifted through the extension API."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class Clock:
    fixed: datetime | None = None
    offset: timedelta = timedelta()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> datetime:
        with self._lock:
            base = self.fixed if self.fixed is not None else datetime.now(UTC)
            return base + self.offset

    def set(self, fixed: datetime | None = None, offset: timedelta | None = None) -> None:
        with self._lock:
            self.fixed = fixed.astimezone(UTC) if fixed is not None else None
            self.offset = offset or timedelta()


def iso_minute(moment: datetime) -> str:
    """Record timestamps: UTC, seconds always 00."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def iso_second(moment: datetime) -> str:
    """Comment and webhook timestamps keep real seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(moment: datetime) -> str:
    """App timestamps are shown with milliseconds."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
