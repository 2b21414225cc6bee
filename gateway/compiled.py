"""Dicts made by a function generated once for many: records into entities
(``service.entities``), entities into their JSON (``odata.payload``).

A loop over the properties' converters pays, for every value of every record, a step of the
loop and a call; a page of 500 records holds 7,500 values. The generated function is one dict
display instead, ``{"Name": f3(v3), ...}``, with the commonest conversions written out in place
(``Inline``): a page converts in about half the time (bench/README.md).

Only fixed templates and the property names (as ``repr`` literals) become source text; every
converter is bound to the function by name, never written out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Inline:
    """A conversion written into the generated function: ``template``, an expression of
    ``{v}`` (the value) and of ``{name}`` for each name in ``uses`` (what it calls)."""

    template: str
    uses: Mapping[str, Any]


Conversion = Callable[[Any], Any] | Inline


AS_IS = Inline("{v}", {})


def _called(convert: Callable[[Any], Any]) -> Inline:
    return Inline("{f}({v})", {"f": convert})


def entity_function(keys: Sequence[str], conversions: Sequence[Conversion],
                    values: Callable[[Any], Sequence[Any]]) -> Callable[[Any], dict]:
    """``record -> {keys[i]: conversions[i](values(record)[i])}``, as one function (which
    raises what ``values`` raises)."""
    if not keys:
        return lambda _: {}
    scope: dict[str, Any] = {"values": values}
    entries = []
    for number, (key, conversion) in enumerate(zip(keys, conversions, strict=True)):
        inline = conversion if isinstance(conversion, Inline) else _called(conversion)
        names = {name: f"{name}_{number}" for name in inline.uses}  # one per property
        scope.update((names[name], use) for name, use in inline.uses.items())
        entries.append(f"{key!r}: {inline.template.format(v=f'v{number}', **names)}")
    unpacked = "".join(f"v{number}, " for number in range(len(keys)))
    source = (f"def convert(record):\n"
              f"    {unpacked}= values(record)\n"
              f"    return {{{', '.join(entries)}}}\n")
    exec(compile(source, "<entity_function>", "exec"), scope)  # names and templates only
    return scope["convert"]
