"""Request parameters as Kintone reads them: JSON bodies, or query strings with indexed brackets.

``fields[0]=a&fields[1]=b``, ``fields[]=a``, repeated ``fields=a&fields=b`` and
``updateKey[field]=x`` all decode to the same structure a JSON body would give.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import KintoneError, invalid

INT64_MAX = 2**63 - 1
_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


def parse_query_pairs(pairs: Iterable[tuple[str, str]]) -> dict:
    root: dict = {}
    for raw_key, value in pairs:
        parts = [m.group(1) or m.group(2) or "" for m in _KEY.finditer(raw_key)]
        if not parts:
            continue
        _assign(root, parts, value)
    return _listify(root)


def _assign(node: dict, parts: list[str], value: str) -> None:
    *path, last = parts
    for part in path:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    if last == "":  # fields[]=a
        bucket = node.setdefault("", [])
        bucket.append(value)
    elif last in node and not isinstance(node[last], dict):  # repeated key
        existing = node[last]
        node[last] = [*existing, value] if isinstance(existing, list) else [existing, value]
    else:
        node[last] = value


def _listify(node: Any) -> Any:
    """Turn ``{"0": a, "1": b}`` (indexed brackets) into lists, recursively."""
    if not isinstance(node, dict):
        return node
    if set(node) == {""}:
        return [_listify(v) for v in node[""]]
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: (v if k == "" else _listify(v)) for k, v in node.items()}


class Params:
    """Typed access to one request's parameters, raising Kintone's own errors."""

    def __init__(self, data: dict) -> None:
        if not isinstance(data, dict):
            raise KintoneError("CB_IJ01")
        self.data = data

    def __contains__(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def raw(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def int(self, name: str, *, required: bool = True, default: int | None = None,
            minimum: int | None = None, maximum: int | None = None) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise invalid(name, "required_param")
            return default
        return to_int(value, name, minimum=minimum, maximum=maximum)

    def str(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise invalid(name, "required_param")
            return default
        if isinstance(value, dict | list):
            raise KintoneError("CB_IJ01")
        return str(value)

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() == "true"

    def list(self, name: str, *, required: bool = False) -> list | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise invalid(name, "required_param")
            return None
        if isinstance(value, dict):  # {"0": ...} from a JSON body is not a list
            raise KintoneError("CB_IJ01")
        return value if isinstance(value, list) else [value]

    def obj(self, name: str, *, required: bool = False) -> dict | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise invalid(name, "required_param")
            return None
        if not isinstance(value, dict):
            raise KintoneError("CB_IJ01")
        return value


def to_int(value: Any, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool | dict | list):
        raise KintoneError("CB_IJ01")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise invalid(key, "not_integer") from None
    if abs(number) > INT64_MAX:  # SQLite (and Kintone's ids) stop at 64 bits
        raise invalid(key, "not_integer")
    if minimum is not None and number < minimum:
        msg = {1: "min_one", 0: "min_zero", -1: "min_revision"}.get(minimum, "min_one")
        raise invalid(key, msg)
    if maximum is not None and number > maximum:
        raise invalid(key, "max_le", maximum)
    return number
