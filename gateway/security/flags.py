"""Boolean settings (``true``/``false``, ``yes``/``no``, ``on``/``off``, ``1``/``0``)."""

from __future__ import annotations

from ..settings import Section

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def flag(section: Section, key: str, default: bool = False) -> bool:
    value = section.get(key)
    if value is None:
        return default
    if value.lower() not in _TRUE + _FALSE:
        raise section.error(key, f"{value!r} is not true or false")
    return value.lower() in _TRUE
