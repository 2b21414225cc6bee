"""Records decoded straight from Kintone's JSON into the values a reader uses.

Parsed into dicts, a page of 500 records is a dict per record and per field, with each field's
type and value strings: in an export that parsing was a third of the gateway's CPU. A
``RecordLayout`` names the fields a read uses; msgspec decodes each record into a small object
(a ``Row``) holding those fields' values, and skips the rest (field types, fields nobody
reads) without building them, in about a third of the time. A field the answer lacks (hidden
by field permissions) reads as null, as in a dict.

Only reads that turn many records into entities use a layout; every other call keeps
Kintone's JSON as dicts (``models.Record``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from operator import attrgetter
from typing import Any

import msgspec

from .models import ID

LAYOUTS_KEPT = 256  # layouts (one per set of fields read) kept for later reads


class _Cell(msgspec.Struct, frozen=True, gc=False):
    value: Any = None


_ABSENT = _Cell()


class Row(msgspec.Struct, gc=False):
    """A record decoded through a layout; ``RecordLayout.values`` reads it."""

    id_cell: _Cell = msgspec.field(default=_ABSENT, name=ID)

    @property
    def id(self) -> int:
        return int(self.id_cell.value)


class RecordLayout:
    """The fields ``codes`` of records (``$id`` always), decoded from a ``records.json`` or
    cursor answer."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = tuple(dict.fromkeys(code for code in codes if code != ID))
        self._attributes = {ID: "id_cell", **{code: f"f{number}" for number, code
                                               in enumerate(self.codes)}}
        row = msgspec.defstruct(
            "Row", [(f"f{number}", _Cell, _ABSENT) for number in range(len(self.codes))],
            bases=(Row,), rename={f"f{number}": code for number, code in enumerate(self.codes)},
            gc=False)
        page = msgspec.defstruct("Page", [("records", list[row]),  # type: ignore[valid-type]
                                          ("totalCount", Any, None), ("next", bool, False)],
                                 gc=False)
        # Shared by the threads of ranged reads: msgspec's decoders are thread-safe (0.16+).
        self._decoder = msgspec.json.Decoder(page)

    def decode(self, body: bytes) -> dict[str, Any]:
        """A ``records.json`` (or cursor page) answer, its records as ``Row``s."""
        try:
            page: Any = self._decoder.decode(body)
        except msgspec.DecodeError as error:  # not JSON, or not a page of records
            raise ValueError(str(error)) from None
        return {"records": page.records, "totalCount": page.totalCount, "next": page.next}

    def values(self, codes: Sequence[str]) -> Callable[[Row], tuple[Any, ...]]:
        """The values of the fields ``codes`` (each decoded by this layout) of a row."""
        if not codes:
            return lambda _: ()
        get = attrgetter(*(f"{self._attributes[code]}.value" for code in codes))
        if len(codes) == 1:
            return lambda row: (get(row),)
        return get


@lru_cache(maxsize=LAYOUTS_KEPT)
def record_layout(codes: tuple[str, ...]) -> RecordLayout:
    """The layout of ``codes``, built once (a decoder type is built per set of fields)."""
    return RecordLayout(codes)
