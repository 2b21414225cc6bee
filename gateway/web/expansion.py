"""``$expand`` in the web layer: the caller's right to read what is expanded, and how the
expanded entities are written, with the next link of a record's comments cut short."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

from ..model import EntitySet, Model
from ..odata import links, media, payload
from ..odata.options import QueryOptions
from ..security import require
from ..service import Reader
from ..service.expand import Expansion, plan_expand


def expansions(model: Model, entity_set: EntitySet, options: QueryOptions
               ) -> tuple[Expansion, ...]:
    """What ``$expand`` asks for, once the caller may read every set it reaches (else 403)."""
    planned = plan_expand(model, entity_set, options.expand)
    for expansion in planned:
        require("GET", expansion.target.name)
    return planned


def navigation_path(entity_set: EntitySet, record_id: int, name: str) -> str:
    """The resource path of a record's navigation property: ``SUPPORT(5)/Comments``."""
    return f"{entity_set.name}({record_id})/{name}"


def shapes(reader: Reader, entity_set: EntitySet, planned: tuple[Expansion, ...],
           fmt: media.JsonFormat, root: str) -> list[payload.ExpandedShape]:
    return [
        payload.ExpandedShape(
            expansion.nav.name, expansion.nav.collection,
            payload.entity_shaper(expansion.target, metadata=fmt.metadata, base_url=root,
                                  select=expansion.options.select, ieee754=fmt.ieee754),
            partial(_next_link, reader, entity_set, expansion, root),
            ieee754=fmt.ieee754,
        )
        for expansion in planned
    ]


def _next_link(reader: Reader, entity_set: EntitySet, expansion: Expansion, root: str,
               entity: Mapping[str, Any], state: Mapping[str, Any]) -> str:
    """``SUPPORT(5)/Comments?<the nested options>&$skiptoken=...``: the rest of the comments."""
    record_id = entity[entity_set.name_for_code("$id")]
    path = navigation_path(entity_set, record_id, expansion.nav.name)
    token = reader.token(dict(state), links.fingerprint(path, expansion.raw))
    query = "&".join(f"{quote(name, safe='$')}={quote(value, safe='')}"
                     for name, value in expansion.raw)
    return links.next_link(root, path, query, token)
