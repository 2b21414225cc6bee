"""The cursor registry: Kintone's server-side cursors over a frozen list of record ids.

A cursor remembers the ids matching its query at creation time (values are read later, at each
page), belongs to whoever created it, expires 10 minutes after creation or after its last page
(by the sandbox clock), and the whole domain may hold only ``config.cursor_limit`` of them.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .context import Caller
from .errors import KintoneError

if TYPE_CHECKING:
    from .state import Sandbox

Owner = tuple[str, str]  # ("user", login) or ("token", token)


@dataclass
class Cursor:
    id: str
    owner: Owner
    app: int
    ids: list[int]
    fields: list[str] | None
    size: int
    expires_at: datetime
    position: int = 0

    @property
    def total(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Page:
    app: int
    ids: list[int]
    fields: list[str] | None
    more: bool


def owner_of(caller: Caller, app: int) -> Owner:
    """A cursor belongs to the user, or to the API token of its app, that created it."""
    if caller.user is not None:
        return ("user", caller.user["login"])
    return ("token", caller.tokens[app].token)


def _owns(caller: Caller, cursor: Cursor) -> bool:
    if caller.user is None and cursor.app not in caller.tokens:
        return False
    return owner_of(caller, cursor.app) == cursor.owner


class CursorRegistry:
    """All live cursors of one sandbox (shared by every request thread)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._lock = threading.Lock()
        self._cursors: dict[str, Cursor] = {}

    def _ttl(self) -> timedelta:
        return timedelta(seconds=self._sandbox.config.cursor_ttl_seconds)

    def _purge_expired(self, now: datetime) -> None:
        for cursor_id in [c.id for c in self._cursors.values() if c.expires_at <= now]:
            del self._cursors[cursor_id]

    def create(self, owner: Owner, app: int, ids: list[int], fields: list[str] | None,
               size: int) -> Cursor:
        now = self._sandbox.clock.now()
        with self._lock:
            self._purge_expired(now)
            if len(self._cursors) >= self._sandbox.config.cursor_limit:
                raise KintoneError("GAIA_TM12")
            cursor = Cursor(str(uuid.uuid4()), owner, app, list(ids), fields, size,
                            now + self._ttl())
            self._cursors[cursor.id] = cursor
            return cursor

    def next_page(self, cursor_id: str, caller: Caller) -> Page:
        """The ids of the next page; the cursor goes away with its last page."""
        now = self._sandbox.clock.now()
        with self._lock:
            cursor = self._live(cursor_id, caller, now)
            end = cursor.position + cursor.size
            page = Page(cursor.app, cursor.ids[cursor.position:end], cursor.fields,
                        end < cursor.total)
            cursor.position = end
            if page.more:
                cursor.expires_at = now + self._ttl()
            else:
                del self._cursors[cursor.id]
            return page

    def release(self, cursor_id: str, caller: Caller) -> None:
        now = self._sandbox.clock.now()
        with self._lock:
            del self._cursors[self._live(cursor_id, caller, now).id]

    def count(self) -> int:
        """Live cursors in the domain (expired ones no longer count)."""
        with self._lock:
            self._purge_expired(self._sandbox.clock.now())
            return len(self._cursors)

    def _live(self, cursor_id: str, caller: Caller, now: datetime) -> Cursor:
        self._purge_expired(now)
        cursor = self._cursors.get(cursor_id)
        # Someone else's cursor is reported exactly like a missing one.
        if cursor is None or not _owns(caller, cursor):
            raise KintoneError("GAIA_CN01")
        return cursor


def cursors(sandbox: Sandbox) -> CursorRegistry:
    return sandbox.registry("cursors", CursorRegistry)
