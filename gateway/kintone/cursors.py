"""The gateway's share of Kintone's cursors: a domain has 10, for every integration together.

Every cursor read takes a lease first: at most ``overall`` at once in this gateway, at most
``per_owner`` per owner (the gateway user reading; ``owner`` tells who that is), so that a few
slow readers cannot take every cursor of the domain. A lease whose reader has not asked for a
page for ``idle`` seconds - a client that stopped reading its response, the worker blocked
sending to it - is reclaimed: its cursor is deleted, and the reader, if it ever goes on, fails.

Several gateway instances in front of one domain count their cursors together (``share``): each
lease then also holds slots of the shared counts, which expire when an instance dies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("gateway.kintone")


class CursorsBusy(Exception):
    """No lease now (the gateway's or this owner's cursors are all in use)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class CursorReclaimed(Exception):
    """The reader's cursor was deleted after it stayed idle too long."""


class SharedSlots(Protocol):
    """Counted slots shared by several processes (``gateway.ops.leases.LeaseSlots``)."""

    def acquire(self, name: str, limit: int) -> str | None:
        """A lease on one of ``name``'s ``limit`` slots, or None when all are taken."""

    def release(self, lease: str) -> None: ...


@dataclass(frozen=True)
class CursorLimits:
    overall: int = 5
    per_owner: int = 2
    idle: float = 60.0  # seconds


@dataclass
class Lease:
    owner: str | None
    used: float
    release: Callable[[], None] | None = None  # deletes the cursor, once one was made
    busy: bool = False  # a page is being fetched
    reclaimed: bool = False
    shared: tuple[str, ...] = ()  # its slots of the shared counts
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def hold(self, release: Callable[[], None]) -> None:
        self.release = release

    def fetching(self) -> _Fetching:
        return _Fetching(self)

    def give_back(self) -> bool:
        """For the reader that stops: True when it must delete the cursor itself."""
        with self.lock:
            mine = not self.reclaimed
            self.reclaimed = True
            return mine


@dataclass
class _Fetching:
    lease: Lease

    def __enter__(self) -> None:
        with self.lease.lock:
            if self.lease.reclaimed:
                raise CursorReclaimed("The Kintone cursor was released: the response was not "
                                      "read for too long.")
            self.lease.busy = True

    def __exit__(self, *exc_info: object) -> None:
        with self.lease.lock:
            self.lease.busy = False
            self.lease.used = time.monotonic()


class CursorPool:
    def __init__(self, limits: CursorLimits, owner: Callable[[], str | None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.owner = owner  # replaceable: the web layer tells who is reading
        self._clock = clock
        self._leases: list[Lease] = []
        self._lock = threading.Lock()
        self._janitor: threading.Thread | None = None
        self._shared: SharedSlots | None = None

    def share(self, slots: SharedSlots) -> None:
        """Count the cursors in ``slots`` too, with every other gateway using them."""
        self._shared = slots

    def lease(self) -> Lease:
        owner = self.owner()
        self._release_all(self._reclaim_idle())
        with self._lock:
            if len(self._leases) >= self.limits.overall:
                raise CursorsBusy(f"The gateway's {self.limits.overall} Kintone cursors are in "
                                  "use ([kintone] MaxCursors).", self.limits.idle / 4)
            mine = sum(1 for lease in self._leases if lease.owner == owner)
            if owner is not None and mine >= self.limits.per_owner:
                raise CursorsBusy(f"{owner} already reads through {mine} Kintone cursors "
                                  "([kintone] MaxCursorsPerUser).", self.limits.idle / 4)
            lease = Lease(owner, self._clock())
            self._leases.append(lease)
        try:
            lease.shared = self._take_shared(owner)
        except BaseException:
            self.end(lease)
            raise
        with self._lock:
            self._watch()
        return lease

    def end(self, lease: Lease) -> None:
        with self._lock:
            if lease not in self._leases:
                return
            self._leases.remove(lease)
        self._give_back_shared([lease])

    def _take_shared(self, owner: str | None) -> tuple[str, ...]:
        if self._shared is None:
            return ()
        overall = self._shared.acquire("cursors", self.limits.overall)
        if overall is None:
            raise CursorsBusy(f"The {self.limits.overall} Kintone cursors of all the gateway's "
                              "instances are in use ([kintone] MaxCursors).",
                              self.limits.idle / 4)
        if owner is None:
            return (overall,)
        mine = None
        try:
            mine = self._shared.acquire(f"cursors-of:{owner}", self.limits.per_owner)
        finally:
            if mine is None:  # busy, or Redis failed: the first slot must not stay held
                self._shared.release(overall)
        if mine is None:
            raise CursorsBusy(f"{owner} already reads through {self.limits.per_owner} Kintone "
                              "cursors ([kintone] MaxCursorsPerUser).", self.limits.idle / 4)
        return (overall, mine)

    def _give_back_shared(self, leases: list[Lease]) -> None:
        if self._shared is not None:
            for lease in leases:
                for slot in lease.shared:
                    self._shared.release(slot)

    def _watch(self) -> None:
        if self._janitor is None or not self._janitor.is_alive():
            self._janitor = threading.Thread(target=self._sweep, name="kintone-cursor-janitor",
                                             daemon=True)
            self._janitor.start()

    def _sweep(self) -> None:
        while True:
            time.sleep(max(self.limits.idle / 4, 0.05))
            self._release_all(self._reclaim_idle())
            with self._lock:
                if not self._leases:
                    self._janitor = None
                    return

    def _reclaim_idle(self) -> list[Lease]:
        """Take the idle leases out; their cursors are deleted by the caller (a Kintone call:
        outside the lock)."""
        now = self._clock()
        idle: list[Lease] = []
        with self._lock:
            for lease in list(self._leases):
                with lease.lock:
                    if lease.busy or lease.reclaimed or now - lease.used <= self.limits.idle:
                        continue
                    lease.reclaimed = True
                self._leases.remove(lease)
                idle.append(lease)
        return idle

    def _release_all(self, leases: list[Lease]) -> None:
        try:
            for lease in leases:
                log.warning("Releasing the Kintone cursor of a reader idle for too long")
                if lease.release is not None:
                    lease.release()
        finally:
            self._give_back_shared(leases)
