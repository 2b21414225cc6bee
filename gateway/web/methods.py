"""One method policy for every URL: a method the resource does not take is a 405 with the
resource's own ``Allow``; ``OPTIONS`` (other than a CORS preflight, which the security layer
answers first) is a 204 with that ``Allow``; the OpenAPI documents list the same methods.

Werkzeug alone cannot say it: the OData resources share two catch-all rules (reads and writes)
that match any path with any of the five methods. So, per method, the rule Werkzeug would pick
decides, and for a catch-all rule the OData resource does: its kind and its entity set's kind.
A path no rule or resource knows is left to the views (404 as an OData error).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from ..http.context import gateway
from ..model import UnknownName
from ..odata.errors import ODataError, not_found
from ..odata.links import SERVICE_PATH
from ..odata.resource import ResourcePath, parse_path
from ..writes.actions import is_action

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The catch-all views of the OData resources (``routes.odata``, ``writes.routes.write``).
_CATCH_ALL = frozenset({"odata.odata", "odata_writes.write"})
_RECORD_ENTITY = ("GET", "PUT", "PATCH", "DELETE")
_BY_KIND: dict[str, dict[str, tuple[str, ...]]] = {
    "records": {"collection": ("GET", "POST"), "entity": _RECORD_ENTITY,
                "property": ("GET", "POST")},
    "comments": {"collection": ("GET", "POST"), "entity": ("GET", "DELETE")},
}
_BY_KEY = ("GET", "PUT", "PATCH")  # an alternate key: reads and upserts (Kintone deletes by id)


def check() -> Response | None:
    """A request hook: after the security layer's checks (authentication, preflights), before
    any view."""
    method = "GET" if request.method == "HEAD" else request.method
    if method != "OPTIONS" and request.routing_exception is None and _serves(
            request.endpoint, request.path, method):
        return None  # the usual case: the rule Flask matched, no other method worked out
    allowed = allowed_methods(request.path)
    if not allowed:
        if method == "OPTIONS":  # else Flask's automatic answer, for any path
            raise not_found(f"No resource at '{request.path}'.")
        return None  # unknown here: the view answers (a 404)
    allow = ", ".join((*allowed, "OPTIONS"))
    if method == "OPTIONS":
        return Response(status=204, headers={"Allow": allow})
    if method not in allowed:
        raise ODataError.of("MethodNotAllowed", message=f"{request.method} is not allowed "
                            f"here; allowed: {allow}.", headers={"Allow": allow})
    return None


def allowed_methods(path: str) -> tuple[str, ...]:
    """The methods ``path`` takes (``GET`` standing for ``HEAD`` too), in ``METHODS`` order."""
    adapter = _adapter()
    return tuple(method for method in METHODS if _takes(adapter, path, method))


def _adapter() -> MapAdapter:
    return current_app.url_map.bind_to_environ(request.environ)


def _takes(adapter: MapAdapter, path: str, method: str) -> bool:
    try:
        endpoint, _ = adapter.match(path, method=method)
    except HTTPException:  # no rule for this method (405) or none at all (404)
        return False
    return _serves(endpoint, path, method)


def _serves(endpoint: str | None, path: str, method: str) -> bool:
    """Whether the view ``endpoint``, matched for ``path`` and ``method``, serves them."""
    return endpoint not in _CATCH_ALL or method in _resource_methods(path)


def _resource_methods(path: str) -> Iterable[str]:
    """The methods of the OData resource at ``path`` (``/api.rsc/...``); none if there is none."""
    rest = path[len(SERVICE_PATH):].lstrip("/")
    if rest.rpartition("/")[2] in ("$batch", "$bulk"):
        return ("POST",)
    try:
        return _methods_of(parse_path(rest))
    except (ODataError, UnknownName):
        return ()


def _names_other_key(key: str, entity_key: tuple[str, ...]) -> bool:
    """``code='A-1'``: a key predicate naming a property outside the entity key (an alternate
    key, which the write path checks)."""
    name, equals, _ = key.partition("=")
    return bool(equals) and "'" not in name and name.strip() not in entity_key


def _methods_of(resource: ResourcePath) -> tuple[str, ...]:
    if resource.kind in ("service", "metadata", "count", "value"):
        return ("GET",)
    if resource.kind == "property" and is_action(resource.property_name or ""):
        return ("POST",)  # a bound action (``writes.actions``), not a property to read
    entity_set = gateway().models.get().entity_set(resource.entity_set or "")
    if resource.kind == "entity" and entity_set.kind == "records" and _names_other_key(
            resource.key or "", entity_set.entity_type.key):
        return _BY_KEY
    return _BY_KIND.get(entity_set.kind, {}).get(resource.kind, ("GET",))
