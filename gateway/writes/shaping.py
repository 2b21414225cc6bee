"""The reply to a record write: status, ``Location``, ``ETag`` and, when wanted, the record as
Kintone now has it (read back, so computed fields, defaults and normalised values show).

Created records come back with 201 and the entity unless ``Prefer: return=minimal`` (204);
updates with 204 unless ``Prefer: return=representation`` (200 and the entity). If the read
after a successful write fails, the entity is reduced to ``Id`` and ``Revision``, which is
still the truth: the write is not reported as failed.
"""

from __future__ import annotations

import logging

from werkzeug.urls import iri_to_uri

from ..kintone import KintoneClient, KintoneError
from ..kintone.models import RecordRef
from ..model import EntitySet
from ..odata import media, payload
from ..service.entities import record_entity
from .exchange import TRUNCATED_HEADER, Reply, WriteRequest, etag

log = logging.getLogger("gateway.writes")

MINIMAL = "return=minimal"
REPRESENTATION = "return=representation"


def written(client: KintoneClient, req: WriteRequest, entity_set: EntitySet, ref: RecordRef, *,
            created: bool, fmt: media.JsonFormat, truncated: tuple[str, ...] = ()) -> Reply:
    # A header holds ASCII only: a Japanese set name is percent-encoded (RFC 3987).
    url = iri_to_uri(payload.entity_url(req.root, entity_set, {"Id": ref.id}))
    headers = {"ETag": etag(ref.revision)}
    if created:
        headers |= {"Location": url, "OData-EntityId": url}
    if truncated:
        headers[TRUNCATED_HEADER] = ", ".join(truncated)
    preference = MINIMAL if created else REPRESENTATION
    honoured = req.prefers(preference)
    if honoured:
        headers["Preference-Applied"] = preference
    wants_body = not honoured if created else honoured
    if not wants_body:
        return Reply(204, headers=headers)
    entity = read_back(client, entity_set, ref)
    body = payload.entity_document(entity_set, entity, metadata=fmt.metadata,
                                   base_url=req.root, ieee754=fmt.ieee754)
    return Reply(201 if created else 200, body, headers, fmt.content_type)


def read_back(client: KintoneClient, entity_set: EntitySet, ref: RecordRef) -> dict:
    entity_type = entity_set.entity_type
    assert entity_set.app_id is not None
    try:
        record = client.get_record(entity_set.app_id, ref.id)
    except KintoneError as error:
        log.warning("Reading back record %s of app %s failed: %s", ref.id, entity_set.app_id,
                    error)
        return {"Id": ref.id, "Revision": ref.revision}
    return record_entity(entity_type, record, [p.name for p in entity_type.properties])
