"""The effective settings, secrets masked, each with where it came from: the settings file,
the environment (an override ``SECTION_KEY``, or a file value ``env:NAME``), or a default."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from enum import Enum

from ..settings import ENV_PREFIX, GatewaySettings, KintoneSettings, Section, Settings

MASK = "••••••"
_SECRET = re.compile(r"password|token|secret|apikey|redis", re.IGNORECASE)  # Redis URLs hold one
_KNOWN = ("kintone", "gateway", "application", "security", "cors", "server", "cluster",
          "writes", "triggers", "console")


@dataclass(frozen=True)
class Row:
    section: str
    key: str
    value: str
    origin: str


def effective(settings: Settings) -> list[Row]:
    rows: list[Row] = []
    for name in sorted({*settings.sections, *_KNOWN}):
        if name == "users":
            continue  # the Users page shows them; their values are token hashes
        section = settings.section(name)
        rows.extend(_rows(settings, section))
    return rows


def _rows(settings: Settings, section: Section) -> Iterator[Row]:
    seen = set()
    for key, value in section.values.items():
        seen.add(key)
        override = _override(section, key)
        if override is not None:
            variable = f"{section.name}_{key}".upper()
            yield Row(section.name, key, _shown(key, override), f"environment ({variable})")
        elif value.startswith(ENV_PREFIX):
            variable = value[len(ENV_PREFIX):].strip()
            yield Row(section.name, key, _shown(key, section.env.get(variable, "(unset)")),
                      f"environment ({variable}, named in the file)")
        else:
            yield Row(section.name, key, _shown(key, value), "file")
    prefix = f"{section.name}_".upper()
    for variable, value in sorted(section.env.items()):
        key = variable[len(prefix):].lower()
        if variable.startswith(prefix) and key and key not in seen:
            seen.add(key)
            yield Row(section.name, key, _shown(key, value), f"environment ({variable})")
    for key, (value, default) in _typed(settings, section.name).items():
        if key not in seen:
            yield Row(section.name, key, _shown(key, value),
                      "default" if default else "set by the program (e.g. the demo)")


def _override(section: Section, key: str) -> str | None:
    return section.env.get(f"{section.name}_{key}".upper())


def _typed(settings: Settings, section: str) -> Mapping[str, tuple[str, bool]]:
    """The typed sections' effective values by INI key, and whether each is the default."""
    sections: dict[str, KintoneSettings | GatewaySettings] = {
        "kintone": settings.kintone, "gateway": settings.gateway}
    typed = sections.get(section)
    if typed is None:
        return {}
    found = {}
    for spec in fields(typed):
        value = getattr(typed, spec.name)
        if isinstance(value, Enum):
            value = value.value
        if value is None or value == () or value == {}:
            continue
        found[spec.name.replace("_", "")] = (str(value), value == spec.default)
    return found


def _shown(key: str, value: str) -> str:
    return MASK if _SECRET.search(key) and not key.lower().endswith("file") else value
