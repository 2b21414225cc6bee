"""A write request planned: the one Kintone write it becomes and how its outcome is answered.

Planning is everything that can fail before Kintone is called (parsing, value conversion,
read-only properties, content negotiation), so a ``$batch`` atomicity group is refused whole
before anything is sent. Running the write alone or inside a bulkRequest is the caller's
choice; ``finish`` then shapes the reply from the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..kintone import KintoneError
from ..kintone.models import RecordRef
from ..model import EntitySet, Model
from ..odata.errors import ODataError
from ..odata.resource import ResourcePath
from . import ops
from .context import Writes
from .errors import write_error
from .exchange import Reply
from .values import all_properties


@dataclass(frozen=True)
class Planned:
    entity_set: EntitySet  # whose properties Kintone's validation errors are about
    write: ops.Write
    finish: Callable[[RecordRef | None], Reply]


def execute(ctx: Writes, planned: Planned) -> Reply:
    """Run a planned write on its own."""
    try:
        ref = ops.run(planned.write, ctx.client, ctx.retry)
    except KintoneError as error:
        raise write_error(planned.entity_set, error) from error
    return planned.finish(ref)


def record_set(model: Model, resource: ResourcePath) -> EntitySet:
    """The record entity set a write addresses; other sets cannot be written this way."""
    entity_set = model.entity_set(resource.entity_set or "")
    if entity_set.kind == "records":
        return entity_set
    if entity_set.kind == "subtable":
        raise method_not_allowed(f"Rows of {entity_set.name} are written through the subtable "
                                 f"property of {entity_set.parent}.", READ_ONLY)
    raise method_not_allowed(f"{entity_set.name} cannot be written.", READ_ONLY)


READ_ONLY = ("GET",)
# The methods each kind of record resource takes (the Allow header of a 405).
ALLOWED = {"collection": ("GET", "POST"), "entity": ("GET", "PATCH", "PUT", "DELETE"),
           "property": ("GET", "POST")}


def method_not_allowed(message: str, allow: tuple[str, ...]) -> ODataError:
    return ODataError.of("MethodNotAllowed", message=message, headers={"Allow": ", ".join(allow)})


def related_apps(entity_set: EntitySet, records: Iterable[Mapping[str, Any]]
                 ) -> dict[int, str]:
    """The apps whose API tokens writing ``records`` (Kintone's write format) also needs, each
    with why: Kintone looks a lookup's value up in its source app only with that app's token in
    the request (else GAIA_LO04); a lookup left out or emptied looks nothing up."""
    sources = {prop.kintone_code: int(prop.props["lookup"]["relatedApp"]["app"])
               for prop in all_properties(entity_set.entity_type)
               if prop.lookup and prop.kintone_code is not None}
    related: dict[int, str] = {}
    if not sources:
        return related
    for record in records:
        for code in _looked_up(record, sources):
            related.setdefault(sources[code], f"the lookup field {code}")
    return related


def _looked_up(record: Mapping[str, Any], sources: Mapping[str, int]) -> Iterator[str]:
    """The codes of the lookups ``record`` sets to a value, top level and in subtable rows."""
    for code, cell in record.items():
        value = cell.get("value") if isinstance(cell, Mapping) else None
        if code in sources and value not in (None, ""):
            yield code
        elif isinstance(value, list):
            for row in value:
                if isinstance(row, Mapping) and isinstance(row.get("value"), Mapping):
                    yield from _looked_up(row["value"], sources)
