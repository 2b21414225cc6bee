"""OpenAPI links: from an entity (created, read, changed or first of a list) to what can be
done with it next — get, update, replace, delete and, for a record, its comments and its process
actions (``Kintone.UpdateStatus``, ``Kintone.SetAssignees``) — so that tools
(schemathesis's stateful phase, client generators, API explorers) can chain the calls.

Swagger 2.0 has no links; ``x-links`` (which schemathesis reads there) carries OpenAPI 3's
link objects, and ``oas3`` turns them into ``links``. Values are runtime expressions:
``$response.body#/Id`` is the id in the response that holds the link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .schemas import ETAG, Schema

LINKS = "x-links"
COMMENTS = "/Comments"
_ENTITY, _FIRST = "$response.body#/", "$response.body#/value/0/"
_NEXT = ("get", "patch", "put", "delete")  # what can follow, on the entity's path
IF_MATCH = {"$ref": "#/parameters/if_match"}


def link_set(paths: Mapping[str, Mapping[str, Schema]], collection: str, entity: str,
             key: tuple[str, ...], app_id: int | None, actions: Sequence[str] = ()) -> None:
    """Adds ``x-links`` to the operations of one entity set: ``collection`` and ``entity`` are
    its paths, ``key`` its key properties; a record set (``app_id``) links to its comments, and
    to the bound actions at ``actions`` (paths taking a POST with the same key)."""
    item, listing = paths.get(entity, {}), paths.get(collection, {})
    comments = paths.get(COMMENTS, {}).get("get")
    bound = [paths[path]["post"] for path in actions if "post" in paths.get(path, {})]
    sources = [(listing.get("post"), "201", _ENTITY), (listing.get("get"), "200", _FIRST),
               *((item.get(method), "200", _ENTITY) for method in ("get", "patch", "put"))]
    for source, status, where in sources:
        if source is None or status not in source["responses"]:
            continue
        targets = [*(item[method] for method in _NEXT if method in item), *bound]
        links = {target["operationId"]: _link(target, key, where)
                 for target in targets if target is not source}
        if app_id is not None and comments is not None:
            links[comments["operationId"]] = {
                "operationId": comments["operationId"],
                "parameters": {"$filter": f"AppId eq {app_id} and RecordId eq "
                                          f"{{{where}{key[0]}}}"}}
        if links:
            source["responses"][status][LINKS] = links


def _link(target: Schema, key: tuple[str, ...], where: str) -> Schema:
    parameters = {name: f"{where}{name}" for name in key}
    if IF_MATCH in target.get("parameters", ()):
        # The record's ETag as read, so that the change applies (and proves If-Match works).
        parameters["header.If-Match"] = f"{where}{ETAG}"
    return {"operationId": target["operationId"], "parameters": parameters}
