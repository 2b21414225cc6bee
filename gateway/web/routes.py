"""The OData endpoints under ``/api.rsc/`` (and ``/api.rsc/@<authtoken>/``).

Query options are read from the raw query string with ``split_query``, never from Flask's
``request.args``: form decoding would turn a raw ``+`` into a space.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from flask import Blueprint, Response, request, stream_with_context

from ..http.context import Gateway, gateway
from ..http.cost import ClientGone
from ..model import EntitySet, Model, NavigationProperty
from ..odata import documents, links, media, metadata, payload
from ..odata.errors import bad_request, not_found, not_implemented
from ..odata.options import QueryOptions, parse_options, split_query
from ..odata.resource import ResourcePath, parse_key, parse_path
from ..security import require
from ..service import CollectionQuery, Page, TokenPage
from ..service.expand import Expansion, records_per_page, source_names
from ..service.trace import tracing
from ..writes.exchange import etag
from ..writes.upsert import AlternateKey, alternate_key
from . import expansion, timing
from .capabilities import capabilities

blueprint = Blueprint("odata", __name__)
log = logging.getLogger("gateway.web")


@dataclass(frozen=True)
class ODataRequest:
    resource: ResourcePath
    raw_query: str
    pairs: list[tuple[str, str]]
    root: str  # the absolute service root

    @classmethod
    def current(cls, path: str) -> ODataRequest:
        resource = parse_path(path)
        raw_query = _raw_query()
        root = links.service_root(gateway().settings, request.host_url, resource)
        return cls(resource, raw_query, split_query(raw_query), root)

    @cached_property
    def options(self) -> QueryOptions:
        return parse_options(self.pairs)

    def json_format(self, options: QueryOptions) -> media.JsonFormat:
        return media.negotiate_json(request.headers.get("Accept"), options.format)

    def entity_set(self, model: Model) -> EntitySet:
        """The addressed entity set, once the caller's right to use it is checked."""
        entity_set = model.entity_set(self.resource.entity_set or "")
        require(request.method, entity_set.name)
        return entity_set


def _raw_query() -> str:
    try:
        return request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("The query string is not valid UTF-8.") from None


@blueprint.get("/api.rsc", defaults={"path": ""}, strict_slashes=False)
@blueprint.get("/api.rsc/", defaults={"path": ""}, strict_slashes=False)
@blueprint.get("/api.rsc/<path:path>")
def odata(path: str) -> Response:
    with tracing() as current:
        with current.span("parse"):
            odata_request = ODataRequest.current(path)
            _ = odata_request.options  # parsed once, here
        kind = odata_request.resource.kind
        response = _VIEWS[kind](odata_request, gateway())
        if kind not in _DOCUMENTS:
            timing.add_headers(response, current)
        return response


def _service_document(req: ODataRequest, gw: Gateway) -> Response:
    fmt = req.json_format(req.options)
    model = gw.described.get()
    document = gw.described.documents.get(model, ("service", req.root, fmt.content_type), lambda: (
        payload.dumps(metadata.service_document(model, req.root, metadata=fmt.metadata))
        .encode()))
    return _described(req, Response(document.body, content_type=fmt.content_type), document)


def _metadata(req: ODataRequest, gw: Gateway) -> Response:
    # Only $format matters here, and it may name XML, which data responses refuse.
    formats = [value for name, value in req.pairs if links.option_name(name) == "$format"]
    content_type = media.negotiate_metadata(_metadata_accept(formats),
                                            formats[0] if formats else None)
    model = gw.described.get()
    document = gw.described.documents.get(model, ("metadata", content_type),
                              lambda: _csdl(model, content_type).encode())
    return _described(req, Response(document.body, content_type=f"{content_type};charset=utf-8"),
                      document)


def _csdl(model: Model, content_type: str) -> str:
    described = capabilities(model)
    if content_type == media.XML:
        return metadata.csdl_xml(model, described)
    return payload.dumps(metadata.csdl_json(model, described))


def _described(req: ODataRequest, response: Response, document: documents.Document
               ) -> Response:
    response.headers.add("Vary", "Accept")
    return documents.revalidated(response, document, request,
                                 token_in_url=req.resource.authtoken is not None)


def _metadata_accept(formats: list[str]) -> str | None:
    """The Accept header $metadata is negotiated with: a 4.0 client (``OData-MaxVersion: 4.0``)
    cannot read CSDL JSON, which is 4.01, so it gets XML whatever its Accept says."""
    max_version = request.headers.get("OData-MaxVersion", "").strip()
    if not formats and max_version in ("4.0", "4"):
        return media.XML
    return request.headers.get("Accept")


def _conditional(response: Response, tag: str | None) -> Response:
    """The response with its ETag (``tag``, if any) and, when the client's ``If-None-Match``
    has it, as 304 Not Modified."""
    if tag is not None:
        response.headers["ETag"] = tag
    response.headers.add("Vary", "Accept")
    response.make_conditional(request)  # in place
    return response


def _collection(req: ODataRequest, gw: Gateway) -> Response:
    options = req.options
    model = gw.models.get()
    entity_set = req.entity_set(model)
    model = _as_listed(gw, entity_set, model)
    planned = expansion.expansions(model, entity_set, options)
    return _page_response(req, gw, entity_set.name, planned, lambda page_size, fmt: (
        gw.reader.page(model, CollectionQuery(
            entity_set, options, page_size, links.fingerprint(entity_set.name, req.pairs),
            json_ready=not fmt.ieee754 and not planned,
            extra=source_names(entity_set, planned)))))


def _navigation(req: ODataRequest, gw: Gateway, entity_set: EntitySet,
                nav: NavigationProperty) -> Response:
    """``Set(Id)/Comments``, ``Set(Id)/<subtable>_Rows``, ``Set(Id)/<reference table>``: a
    record's comments, its subtable rows, the records a reference table lists for it;
    collections with the usual options. ``Set(Id)/<lookup>_Record``: one record, or 204."""
    record_id = _navigable(req, gw, entity_set, nav)
    if not nav.collection:
        return _navigation_entity(req, gw, entity_set, record_id, nav)
    model = gw.models.get()
    target = model.entity_set(nav.target)
    options = req.options
    path = expansion.navigation_path(entity_set, record_id, nav.name)
    planned = expansion.expansions(model, target, options)

    def read(page_size: int, fmt: media.JsonFormat) -> TokenPage:
        query = CollectionQuery(target, options, page_size, links.fingerprint(path, req.pairs),
                                json_ready=not fmt.ieee754 and not planned,
                                extra=source_names(target, planned))
        return gw.reader.navigation_page(model, entity_set, record_id, nav, query)

    return _page_response(req, gw, path, planned, read, context_set=target.name,
                          shaped_set=target)


def _navigation_entity(req: ODataRequest, gw: Gateway, entity_set: EntitySet, record_id: int,
                       nav: NavigationProperty) -> Response:
    options = req.options
    fmt = req.json_format(options)
    model = gw.models.get()
    target = model.entity_set(nav.target)
    entity = gw.reader.navigation_entity(model, entity_set, record_id, nav, options)
    if entity is None:
        return Response(status=204)
    body = payload.entity_document(target, entity, metadata=fmt.metadata, base_url=req.root,
                                   select=options.select, ieee754=fmt.ieee754)
    return _json(body, fmt)


def _navigable(req: ODataRequest, gw: Gateway, entity_set: EntitySet,
               nav: NavigationProperty) -> int:
    """The id of the record whose ``nav`` the request reads, once the caller is known to be
    allowed to read its target; by an alternate key, found with one Kintone query."""
    require("GET", nav.target)
    text = req.resource.key or ""
    alternate = _alternate(entity_set, text)
    if alternate is None:
        return parse_key(text, entity_set.entity_type)["Id"]
    return _found(entity_set, text, gw.reader.entity_where(
        gw.models.get(), entity_set, alternate.condition, QueryOptions(select=("Id",))))["Id"]


def _page_response(req: ODataRequest, gw: Gateway, path: str,
                   planned: tuple[Expansion, ...],
                   read: Callable[[int, media.JsonFormat], TokenPage], *,
                   context_set: str | None = None,
                   shaped_set: EntitySet | None = None) -> Response:
    """A collection page at ``path`` (a set, or a record's navigation property) read by
    ``read(page size, format)``, streamed, with its next link. With ``$expand`` a page holds
    fewer records (``ExpandPageSize``): each may cost a Kintone call."""
    options = req.options
    limits = gw.settings.gateway
    # The records' own reads stop after CallsPerPage calls; the expansions get the rest.
    limit = (records_per_page(planned, limits.expand_page_size,
                              limits.max_calls_per_request - limits.calls_per_page)
             if planned else limits.page_size)
    fmt = req.json_format(options)
    model = gw.models.get()
    entity_set = shaped_set or req.entity_set(model)
    wanted = links.max_page_size(request.headers.get("Prefer"))
    page = read(min(wanted or limit, limit), fmt).prime()
    context = (None if fmt.metadata == "none"
               else payload.context_url(req.root, context_set or path, options.select))

    def next_link() -> str | None:
        token = page.next_token
        return token and links.next_link(req.root, path, req.raw_query, token)

    entities: Iterable[dict] = page
    if planned:
        entities = gw.reader.expander(entity_set, planned).expand(page)
    shapes = expansion.shapes(gw.reader, entity_set, planned, fmt, req.root)
    chunks = payload.stream_collection(
        context, _shaped(entities, entity_set, options, fmt, req.root, shapes),
        count=page.count, next_link_factory=next_link, ieee754=fmt.ieee754)
    response = Response(_body(chunks, page), content_type=fmt.content_type)
    if wanted is not None:
        response.headers["Preference-Applied"] = f"odata.maxpagesize={wanted}"
    return response


def _shaped(entities: Iterable[dict], entity_set: EntitySet, options: QueryOptions,
            fmt: media.JsonFormat, root: str, shapes: list[payload.ExpandedShape]
            ) -> Iterator[dict]:
    shape = payload.entity_shaper(entity_set, metadata=fmt.metadata, base_url=root,
                                  select=options.select, ieee754=fmt.ieee754, expand=shapes)
    return map(shape, entities)


def _body(chunks: Iterator[bytes], page: Page) -> bytes | Iterator[bytes]:
    """A body that fits in one chunk (a page of a few hundred records) whole, sent with its
    length: cheaper for gunicorn and for the client than chunked transfer. A longer one is
    streamed; its first two chunks are made before the status goes out, so that a Kintone call
    failing there still answers with an error status."""
    second: bytes | None = None
    try:
        first = next(chunks)
        second = next(chunks, None)
    finally:
        if second is None:  # read to the end, or failed
            page.close()
    if second is None:
        return first
    return stream_with_context(_streamed((first, second), chunks, page))


def _streamed(head: tuple[bytes, ...], chunks: Iterator[bytes], page: Page
              ) -> Iterator[bytes]:
    """The chunks; closing them (a client that went away) releases the page's Kintone cursor.

    A failure once the status is sent can only cut the response short (the client then sees
    invalid JSON, never a silently incomplete page); it is logged here.
    """
    try:
        yield from head
        yield from chunks
    except ClientGone:
        log.info("The client went away; its collection response was stopped")
    except Exception:
        log.exception("A collection response was cut short")
        raise
    finally:
        page.close()


def _count(req: ODataRequest, gw: Gateway) -> Response:
    model = gw.models.get()
    entity_set = req.entity_set(model)
    name = req.resource.property_name
    if name is None:
        count = gw.reader.count(_as_listed(gw, entity_set, model), entity_set,
                                 req.options)
    elif any(nav.name == name for nav in entity_set.entity_type.navigation):
        nav = entity_set.entity_type.navigation_property(name)
        record_id = _navigable(req, gw, entity_set, nav)
        count = gw.reader.navigation_count(model, entity_set, record_id, nav, req.options)
    else:
        raise not_implemented(f"/$count is only available for entity sets and navigation "
                              f"properties, not for '{name}'.")
    content_type = media.negotiate_text(request.headers.get("Accept"))
    return Response(str(count), content_type=content_type)


def _entity(req: ODataRequest, gw: Gateway) -> Response:
    options = req.options
    fmt = req.json_format(options)
    model = gw.models.get()
    entity_set = req.entity_set(model)
    planned = expansion.expansions(model, entity_set, options)
    entity = _find(req, gw, model, entity_set, options, source_names(entity_set, planned))
    if planned:
        entity = next(gw.reader.expander(entity_set, planned).expand([entity]))
    body = payload.entity_document(entity_set, entity, metadata=fmt.metadata, base_url=req.root,
                                   select=options.select, ieee754=fmt.ieee754,
                                   expand=expansion.shapes(gw.reader, entity_set, planned, fmt,
                                                           req.root))
    return _conditional(_json(body, fmt), _revision_etag(entity_set, entity))


def _revision_etag(entity_set: EntitySet, entity: dict) -> str | None:
    """A record's ETag is its revision, as writes take it in If-Match (None for other sets)."""
    if entity_set.kind != "records":
        return None
    revision = entity.get(entity_set.name_for_code("$revision"))
    return None if revision is None else etag(revision)


def _property(req: ODataRequest, gw: Gateway) -> Response:
    entity_set = req.entity_set(gw.models.get())
    name = req.resource.property_name or ""
    if any(nav.name == name for nav in entity_set.entity_type.navigation):
        return _navigation(req, gw, entity_set,
                           entity_set.entity_type.navigation_property(name))
    fmt = req.json_format(req.options)
    entity_set, entity, name = _property_of(req, gw)
    if entity[name] is None:
        return Response(status=204)
    body = payload.property_json(entity_set, entity, name, metadata=fmt.metadata,
                                 base_url=req.root, ieee754=fmt.ieee754)
    return _json(body, fmt)


def _value(req: ODataRequest, gw: Gateway) -> Response:
    content_type = media.negotiate_text(request.headers.get("Accept"))
    _, entity, name = _property_of(req, gw)
    if entity[name] is None:
        return Response(status=204)
    return Response(payload.raw_value(entity[name]), content_type=content_type)


def _property_of(req: ODataRequest, gw: Gateway) -> tuple[EntitySet, dict, str]:
    model = gw.models.get()
    entity_set = req.entity_set(model)
    name = req.resource.property_name or ""
    if not entity_set.entity_type.has_property(name):
        raise not_found(f"The type {entity_set.entity_type.name} has no property '{name}'.",
                        name)
    entity = _find(req, gw, model, entity_set, QueryOptions(select=(name,)))
    return entity_set, entity, name


def _as_listed(gw: Gateway, entity_set: EntitySet, model: Model) -> Model:
    """Apps and Fields describe the service: they list only what the caller may see."""
    return gw.described.get() if entity_set.kind in ("apps", "fields") else model


def _find(req: ODataRequest, gw: Gateway, model: Model, entity_set: EntitySet,
          options: QueryOptions, extra: tuple[str, ...] = ()) -> dict:
    text = req.resource.key or ""
    alternate = _alternate(entity_set, text)
    if alternate is None:
        key = parse_key(text, entity_set.entity_type)
        entity = gw.reader.entity(_as_listed(gw, entity_set, model), entity_set, key, options,
                                  extra)
    else:
        entity = gw.reader.entity_where(model, entity_set, alternate.condition, options, extra)
    return _found(entity_set, text, entity)


def _found(entity_set: EntitySet, key: str, entity: dict | None) -> dict:
    if entity is None:
        raise not_found(f"{entity_set.name}({key}) does not exist.")
    return entity


def _alternate(entity_set: EntitySet, key: str) -> AlternateKey | None:
    """The alternate key a record set's key predicate names; None for the entity key."""
    return alternate_key(entity_set, key) if entity_set.kind == "records" else None


def _json(body: dict, fmt: media.JsonFormat) -> Response:
    return Response(payload.dumps(body), content_type=fmt.content_type)


# Described, not read: no Server-Timing.
_DOCUMENTS = frozenset({"service", "metadata"})
_VIEWS: dict[str, Callable[[ODataRequest, Gateway], Response]] = {
    "service": _service_document,
    "metadata": _metadata,
    "collection": _collection,
    "count": _count,
    "entity": _entity,
    "property": _property,
    "value": _value,
}
