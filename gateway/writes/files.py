"""Files of a record's FILE field (top-level FILE fields only).

* Upload: ``POST /<Set>(<Id>)/<FileProperty>`` with the file's bytes as the body, its type as
  ``Content-Type`` and its name in ``Content-Disposition: attachment; filename="quote.pdf"``
  (or ``filename*=UTF-8''...``, or a percent-encoded ``Slug`` header). The file is added after
  the files already there → 201 with the new ``Kintone.File``, ``Location`` (its download URL)
  and the record's new ``ETag``. ``If-Match`` guards the record's revision; without it a
  concurrent change of the record is waited out by reading it again.
* Download: ``GET /<Set>(<Id>)/<FileProperty>/<index>/$value`` (``index`` from 0, in the order
  the property lists the files) streams the file with its ``Content-Type`` and name.
* A FileKey flow works too: a ``Kintone.File`` value ``{"FileKey": ...}`` in a POST/PATCH body
  attaches an upload key or keeps an attached file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from flask import Response, stream_with_context
from werkzeug.http import parse_options_header
from werkzeug.urls import iri_to_uri

from ..kintone import FileDownload, KintoneConflict, KintoneError
from ..kintone.models import RecordRef
from ..model import EntitySet, Property
from ..odata.errors import bad_request, not_found
from ..odata.resource import parse_key
from .context import Writes
from .errors import REVISION_MISMATCH, write_error
from .exchange import Reply, WriteRequest, etag
from .ops import UpdateRecord, run

ATTEMPTS = 3  # reads and writes of the file list when other writers keep changing the record


def upload(ctx: Writes, req: WriteRequest, entity_set: EntitySet, key: str,
           name: str) -> Reply:
    prop = _file_property(entity_set, name)
    record_id = parse_key(key, entity_set.entity_type)["Id"]
    filename = _filename(req)
    content_type = req.headers.get("Content-Type") or "application/octet-stream"
    try:
        file_key = ctx.client.upload_file(filename, req.body, content_type,
                                          app=entity_set.app_id)
        ref = _attach(ctx, entity_set, prop, record_id, file_key, req.revision())
    except KintoneError as error:
        raise write_error(entity_set, error) from error
    files = _files(ctx, entity_set, prop, record_id)
    index = len(files) - 1
    base = f"{req.root}/{entity_set.name}({record_id})/{prop.name}"
    body = {"@odata.context": f"{req.root}/$metadata#{prop.edm_type}", **files[index]}
    return Reply(201, body, {"Location": iri_to_uri(f"{base}/{index}/$value"),
                             "ETag": etag(ref.revision)})


def download(ctx: Writes, entity_set: EntitySet, key: str, name: str, index: int) -> Response:
    prop = _file_property(entity_set, name)
    record_id = parse_key(key, entity_set.entity_type)["Id"]
    files = _files(ctx, entity_set, prop, record_id)
    if not 0 <= index < len(files):
        raise not_found(f"{entity_set.name}({record_id})/{name} has no file {index}.")
    download = ctx.client.download_file(files[index]["FileKey"], entity_set.app_id)
    headers = {"Content-Disposition": download.disposition} if download.disposition else {}
    if download.size is not None:
        headers["Content-Length"] = str(download.size)
    return Response(stream_with_context(_chunks(download)), headers=headers,
                    content_type=download.content_type)


def _chunks(download: FileDownload) -> Iterator[bytes]:
    try:
        yield from download.chunks
    finally:
        download.close()


def _attach(ctx: Writes, entity_set: EntitySet, prop: Property, record_id: int, file_key: str,
            expected: int | None) -> RecordRef:
    attempt = 1
    while True:
        try:
            return _attach_once(ctx, entity_set, prop, record_id, file_key, expected)
        except KintoneConflict:
            if expected is not None or attempt >= ATTEMPTS:
                raise
            attempt += 1


def _attach_once(ctx: Writes, entity_set: EntitySet, prop: Property, record_id: int,
                 file_key: str, expected: int | None) -> RecordRef:
    """Write the file list read plus the new file, guarded by the revision read."""
    assert entity_set.app_id is not None and prop.kintone_code is not None
    record = ctx.client.get_record(entity_set.app_id, record_id)
    revision = int(record["$revision"]["value"])
    if expected is not None and expected != revision:
        raise KintoneConflict(409, REVISION_MISMATCH, "The revision is not the latest.")
    kept = [{"fileKey": f["fileKey"]} for f in record[prop.kintone_code]["value"] or []]
    cells = {prop.kintone_code: {"value": [*kept, {"fileKey": file_key}]}}
    ref = run(UpdateRecord(entity_set.app_id, {"id": record_id}, cells, revision), ctx.client,
              ctx.retry)
    assert ref is not None
    return ref


def _files(ctx: Writes, entity_set: EntitySet, prop: Property, record_id: int
           ) -> list[dict[str, Any]]:
    assert entity_set.app_id is not None and prop.kintone_code is not None
    record = ctx.client.get_record(entity_set.app_id, record_id)
    return prop.to_odata((record.get(prop.kintone_code) or {}).get("value"))


def _file_property(entity_set: EntitySet, name: str) -> Property:
    if not entity_set.entity_type.has_property(name):
        raise not_found(f"{entity_set.name} has no property '{name}'.", name)
    prop = entity_set.property(name)
    if prop.kintone_type != "FILE":
        raise bad_request(f"{name} is not a file property.", name)
    return prop


def _filename(req: WriteRequest) -> str:
    _, options = parse_options_header(req.headers.get("Content-Disposition", ""))
    name = options.get("filename") or unquote(req.headers.get("Slug", ""))
    if not name:
        raise bad_request("Name the file in Content-Disposition (attachment; filename=\"...\") "
                          "or in a Slug header.")
    return name
