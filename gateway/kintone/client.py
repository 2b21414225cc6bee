"""The Kintone REST API as the gateway uses it: one method per API, plain results.

Writes larger than Kintone's 100-record limit are split into chunks sent one after another:
they are not atomic across chunks (use ``bulk_request`` when that matters, up to 20 chunks), and
a failing chunk's validation errors are renumbered to the caller's record indexes.

Every call about an app goes to that app's path: ``/k/guest/{space}/v1/...`` for an app of a
guest space, ``/k/v1/...`` otherwise. Which apps live in which guest space is ``route``d by
whoever discovers it (the model loader, from ``apps.json`` and ``space.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from types import EllipsisType, MappingProxyType
from typing import Any, TypeVar

from ..events import Stream
from ..settings import KintoneSettings
from .cursors import CursorLimits, CursorPool
from .errors import KintoneBadRequest, KintoneError
from .id_ranges import Parked
from .layout import RecordLayout
from .models import (
    BulkItem,
    CommentPage,
    Cursor,
    CursorPage,
    FileDownload,
    Record,
    RecordPage,
    RecordRef,
)
from .retry import RetryPolicy
from .transport import Transport

MAX_WRITE = 100  # records per POST/PUT/DELETE records.json
MAX_APPS_PAGE = 100  # apps per apps.json call
DOWNLOAD_CHUNK = 1 << 16
# Calls sent with another method than GET that write nothing (a cursor is a read).
_READS = frozenset({"records/cursor"})

T = TypeVar("T")


class KintoneClient:
    """One connection to one Kintone domain (all its spaces), safe to share between threads."""

    def __init__(self, settings: KintoneSettings, *, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        # Told of every HTTP call, failure and retry; the gateway app's stream (create_app).
        self.events = Stream()
        self._transport = Transport(settings, self.events, retry=retry)
        self._guest_spaces: Mapping[int, int] = MappingProxyType({})
        self.cursors = CursorPool(CursorLimits(settings.max_cursors,
                                               settings.max_cursors_per_user,
                                               settings.cursor_idle_timeout))
        # The first ranges of exports' next pages, started by the pages before them.
        self.parked = Parked(settings.parked_reads)

    def route(self, guest_spaces: Mapping[int, int]) -> None:
        """From now on, send the calls about each app of ``guest_spaces`` (app id -> guest space
        id) to its guest space's path, and those about any other app to ``/k/v1``."""
        self._guest_spaces = MappingProxyType(dict(guest_spaces))  # one swap: threads see either

    def guest_space(self, app: int) -> int | None:
        """The guest space whose path calls about ``app`` take (None: ``/k/v1``)."""
        return self._guest_spaces.get(app)

    def guard(self, check: Callable[[str, str], None]) -> None:
        """Call ``check(method, api)`` before every HTTP call; what it raises stops the call
        and reaches the caller (not retried)."""
        self._transport.guards.append(check)

    def share_slots(self, slots: AbstractContextManager) -> None:
        """Enter ``slots`` around every HTTP call instead of this client's own semaphore, e.g. a
        cap shared by several gateway instances."""
        self._transport.slots = slots

    def __enter__(self) -> KintoneClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def _call(self, method: str, api: str, params: Mapping[str, Any],
              apps: Collection[int] = (), *, space: int | EllipsisType | None = ...,
              layout: RecordLayout | None = None) -> dict:
        """One call touching ``apps``, on their path unless ``space`` names one; its records
        decoded through ``layout`` if given."""
        space = self._space_of(apps) if space is ... else space
        if method != "GET" and api not in _READS:
            self.parked.forget(apps)  # a next page read after this write must see it
        return self._transport.call(method, api, params, apps=apps, space=space,
                                    decode=layout.decode if layout else None)

    def _space_of(self, apps: Collection[int]) -> int | None:
        """The guest space of ``apps``. Kintone serves one request on one path, and apps of a
        guest space reach only apps of that space (lookups, bulk requests)."""
        spaces = {self._guest_spaces[app] for app in apps if app in self._guest_spaces}
        if len(spaces) > 1:
            raise KintoneBadRequest(400, None, "One Kintone request cannot touch apps of "
                                    f"different guest spaces ({sorted(spaces)}).")
        return spaces.pop() if spaces else None

    # Apps and app settings

    def get_app(self, app: int, *, guest_space: int | EllipsisType | None = ...) -> dict:
        """``app.json``; ``guest_space`` asks on that guest space's path (None: ``/k/v1``)
        instead of the app's own, to find where an app lives."""
        return self._call("GET", "app", {"id": app}, {app}, space=guest_space)

    def get_space(self, space: int, *, guest: bool = False) -> dict:
        """``space.json`` of a space; a guest space answers only on its own path (``guest``)."""
        return self._call("GET", "space", {"id": space}, space=space if guest else None)

    def get_apps(self, *, ids: Sequence[int] | None = None, codes: Sequence[str] | None = None,
                 name: str | None = None, space_ids: Sequence[int] | None = None) -> list[dict]:
        """Every app the credentials may see that matches the filters (≤ 100 ids/codes each)."""
        filters = {"ids": ids, "codes": codes, "name": name, "spaceIds": space_ids}
        apps: list[dict] = []
        while True:
            page = self._call("GET", "apps", {**filters, "offset": len(apps),
                                              "limit": MAX_APPS_PAGE})["apps"]
            apps.extend(page)
            if len(page) < MAX_APPS_PAGE:
                return apps

    def get_form_fields(self, app: int, *, lang: str | None = None) -> dict:
        """``{"properties": {code: property}, "revision": "7"}``."""
        return self._call("GET", "app/form/fields", {"app": app, "lang": lang}, {app})

    def get_form_layout(self, app: int) -> dict:
        return self._call("GET", "app/form/layout", {"app": app}, {app})

    def get_process_settings(self, app: int, *, lang: str | None = None) -> dict:
        """Process management: ``{"enable", "states", "actions", "revision"}``."""
        return self._call("GET", "app/status", {"app": app, "lang": lang}, {app})

    # Records

    def get_record(self, app: int, record: int) -> Record:
        return self._call("GET", "record", {"app": app, "id": record}, {app})["record"]

    def get_records(self, app: int, query: str = "", fields: Sequence[str] | None = None,
                    total_count: bool = False, *, layout: RecordLayout | None = None
                    ) -> RecordPage:
        """One page (``limit`` ≤ 500 in ``query``); for more, see ``paging.iter_records``.
        ``layout``: records as its ``Row``s instead of dicts."""
        params = {"app": app, "query": query, "fields": _list(fields),
                  "totalCount": True if total_count else None}
        body = self._call("GET", "records", params, {app}, layout=layout)
        return RecordPage(body["records"], _int(body.get("totalCount")))

    def add_records(self, app: int, records: Sequence[Record], *,
                    related_apps: Collection[int] = ()) -> list[RecordRef]:
        """Add records (``{code: {"value": ...}}``), 100 per call. ``related_apps``: apps whose
        API tokens the write also needs (lookup sources), or a mapping of them to why."""
        apps = _touched(app, related_apps)

        def add(chunk: Sequence[Record]) -> list[RecordRef]:
            body = self._call("POST", "records", {"app": app, "records": list(chunk)}, apps)
            return [RecordRef(int(i), int(r)) for i, r in zip(body["ids"], body["revisions"],
                                                              strict=True)]

        return _in_chunks(records, add)

    def update_records(self, app: int, records: Sequence[Mapping[str, Any]], *,
                       upsert: bool = False,
                       related_apps: Collection[int] = ()) -> list[RecordRef]:
        """Update records, 100 per call; each item is ``{"id" | "updateKey", "record",
        "revision"?}``. With ``upsert``, unmatched ``updateKey`` items are added."""
        apps = _touched(app, related_apps)

        def update(chunk: Sequence[Mapping[str, Any]]) -> list[RecordRef]:
            params = {"app": app, "records": list(chunk), "upsert": True if upsert else None}
            body = self._call("PUT", "records", params, apps)
            return [RecordRef(int(r["id"]), int(r["revision"]), r.get("operation"))
                    for r in body["records"]]

        return _in_chunks(records, update)

    def delete_records(self, app: int, ids: Sequence[int],
                       revisions: Sequence[int] | None = None) -> None:
        """Delete records, 100 per call; ``revisions`` (aligned with ``ids``) guard each one."""
        if revisions is not None and len(revisions) != len(ids):
            raise ValueError("ids and revisions must have the same length")
        for offset, chunk in _chunks(ids):
            guards = None if revisions is None else revisions[offset:offset + len(chunk)]
            params = {"app": app, "ids": list(chunk), "revisions": _list(guards)}
            self._call("DELETE", "records", params, {app})

    # Cursors

    def create_cursor(self, app: int, query: str = "", fields: Sequence[str] | None = None,
                      size: int = 500) -> Cursor:
        """A server-side cursor (no ``limit``/``offset`` in ``query``). Delete it when done:
        a domain has only 10."""
        params = {"app": app, "query": query, "fields": _list(fields), "size": size}
        body = self._call("POST", "records/cursor", params, {app})
        return Cursor(body["id"], app, int(body["totalCount"]))

    def get_cursor(self, cursor: Cursor, *, layout: RecordLayout | None = None) -> CursorPage:
        body = self._call("GET", "records/cursor", {"id": cursor.id}, {cursor.app},
                          layout=layout)
        return CursorPage(body["records"], bool(body["next"]))

    def delete_cursor(self, cursor: Cursor) -> None:
        self._call("DELETE", "records/cursor", {"id": cursor.id}, {cursor.app})

    # Comments

    def get_comments(self, app: int, record: int, *, order: str = "desc", offset: int = 0,
                     limit: int = 10) -> CommentPage:
        params = {"app": app, "record": record, "order": order, "offset": offset,
                  "limit": limit}
        body = self._call("GET", "record/comments", params, {app})
        return CommentPage(body["comments"], bool(body["older"]), bool(body["newer"]))

    def add_comment(self, app: int, record: int, text: str,
                    mentions: Sequence[Mapping[str, str]] = ()) -> int:
        """Add a comment; ``mentions`` like ``{"code": "ken", "type": "USER"}``. Its id."""
        comment = {"text": text, "mentions": [dict(m) for m in mentions]}
        body = self._call("POST", "record/comment",
                          {"app": app, "record": record, "comment": comment}, {app})
        return int(body["id"])

    def delete_comment(self, app: int, record: int, comment: int) -> None:
        self._call("DELETE", "record/comment",
                   {"app": app, "record": record, "comment": comment}, {app})

    # Process management

    def update_status(self, app: int, record: int, action: str, *, assignee: str | None = None,
                      revision: int | None = None) -> int:
        """Run the status ``action`` (its name in the caller's language). The new revision."""
        params = {"app": app, "id": record, "action": action, "assignee": assignee,
                  "revision": revision}
        return int(self._call("PUT", "record/status", params, {app})["revision"])

    def update_assignees(self, app: int, record: int, assignees: Sequence[str], *,
                         revision: int | None = None) -> int:
        """Set the assignees of the record's current status (``[]`` clears). The new revision."""
        params = {"app": app, "id": record, "assignees": list(assignees), "revision": revision}
        return int(self._call("PUT", "record/assignees", params, {app})["revision"])

    # Files

    def upload_file(self, name: str, content: bytes,
                    content_type: str = "application/octet-stream", *,
                    app: int | None = None) -> str:
        """Upload a file (for ``app``: on its path); its temporary key, to be attached to a FILE
        field within 3 days."""
        space = None if app is None else self.guest_space(app)
        return str(self._transport.upload("file", name, content, content_type,
                                          space=space)["fileKey"])

    def download_file(self, file_key: str, app: int | None = None) -> FileDownload:
        """Stream an attached file by its download key (``app`` holding it: for its API token)."""
        apps = {app} if app is not None else set()
        response = self._transport.download("file", {"fileKey": file_key}, apps=apps,
                                            space=self._space_of(apps))
        length = response.headers.get("Content-Length")
        return FileDownload(
            content_type=response.headers.get("Content-Type", "application/octet-stream"),
            disposition=response.headers.get("Content-Disposition"),
            size=int(length) if length and length.isdigit() else None,
            chunks=response.stream(DOWNLOAD_CHUNK),
            close=response.close,
        )

    # Bulk

    def bulk_request(self, items: Sequence[BulkItem]) -> list[dict]:
        """Up to 20 writes in one transaction: all applied, or none. Their results, in order.
        All of them on one path: the apps must share their guest space, or have none."""
        apps: dict[int, str] = {}
        for item in items:
            if "app" in item.payload:
                apps.update(_touched(int(item.payload["app"]), item.related_apps))
        space = self._space_of(apps)
        requests = [{"method": item.method, "api": self._transport.path(item.api, space),
                     "payload": item.payload} for item in items]
        return self._call("POST", "bulkRequest", {"requests": requests}, apps,
                          space=space)["results"]


def _touched(app: int, related_apps: Collection[int]) -> dict[int, str]:
    """``app`` and the apps a call reaches through its fields, mapped to why (for the message
    naming a missing API token)."""
    why = related_apps if isinstance(related_apps, Mapping) else {}
    return {**{other: why.get(other, "") for other in related_apps}, app: ""}


def _list(values: Sequence[T] | None) -> list[T] | None:
    return None if values is None else list(values)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _in_chunks(items: Sequence[T], send: Callable[[Sequence[T]], list[RecordRef]]
               ) -> list[RecordRef]:
    """``send`` each chunk of ``MAX_WRITE`` items; errors speak of indexes in ``items``."""
    results: list[RecordRef] = []
    for offset, chunk in _chunks(items):
        try:
            results.extend(send(chunk))
        except KintoneError as error:
            if not offset:
                raise
            raise error.shifted(offset) from error
    return results


def _chunks(items: Sequence[T]) -> Iterator[tuple[int, Sequence[T]]]:
    for offset in range(0, len(items), MAX_WRITE):
        yield offset, items[offset:offset + MAX_WRITE]
