"""Query-string encoding of Kintone GET parameters, as the official js-sdk writes them.

Arrays use indexed brackets (``fields[0]=a&fields[1]=b``), objects named brackets
(``updateKey[field]=x``), booleans ``true``/``false``; ``None`` values are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode


def query_string(params: Mapping[str, Any]) -> str:
    return urlencode(list(_pairs(params)))


def _pairs(params: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        yield from _value_pairs(name, value)


def _value_pairs(name: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        yield from _pairs(value, name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _value_pairs(f"{name}[{index}]", item)
    elif isinstance(value, bool):
        yield name, "true" if value else "false"
    else:
        yield name, str(value)
