"""JavaScript and CSS customization of an app (``app/customize.json`` and its preview variant).

The settings document keeps it under ``customize``; deploying copies it live with the rest.
A PUT changes only what it sends (``scope``, and each of ``desktop``/``mobile`` ``js``/``css``).
A FILE resource names an upload key, consumed as a record attachment's is: the stored file gets
a download key, which a later PUT may send again to keep the file.
"""

from __future__ import annotations

import copy
import sqlite3
from datetime import datetime
from typing import Any

from .errors import KintoneError, Problems
from .files import attach

SCOPES = ("ALL", "ADMIN", "NONE")
MAX_RESOURCES = 30  # files and URLs per list, as Kintone's settings screen allows
DEFAULT = {"scope": "ALL", "desktop": {"js": [], "css": []}, "mobile": {"js": [], "css": []}}


def current(settings: dict) -> dict:
    """The customization of a settings document (apps made before it existed have none)."""
    return copy.deepcopy(settings.get("customize", DEFAULT))


def customize_update(data: dict, settings: dict, conn: sqlite3.Connection, now: datetime,
                     lang: str) -> dict:
    """The customization after a PUT of ``data``; problems raise one CB_VA01."""
    problems = Problems(lang)
    result = current(settings)
    if data.get("scope") is not None:
        if data["scope"] not in SCOPES:
            problems.add("scope", "enum")
        result["scope"] = data["scope"]
    for platform in ("desktop", "mobile"):
        sent = data.get(platform)
        if sent is None:
            continue
        if not isinstance(sent, dict):
            raise KintoneError("CB_IJ01")
        for kind in ("js", "css"):
            if sent.get(kind) is not None:
                result[platform][kind] = _resources(sent[kind], f"{platform}.{kind}", conn, now,
                                                    problems)
    problems.raise_if_any()
    return result


def _resources(raw: Any, key: str, conn: sqlite3.Connection, now: datetime,
               problems: Problems) -> list[dict]:
    if not isinstance(raw, list):
        raise KintoneError("CB_IJ01")
    if len(raw) > MAX_RESOURCES:
        problems.add(key, "size_range", 0, MAX_RESOURCES)
    return [_resource(item, f"{key}[{i}]", conn, now, problems) for i, item in enumerate(raw)]


def _resource(item: Any, key: str, conn: sqlite3.Connection, now: datetime,
              problems: Problems) -> dict:
    if not isinstance(item, dict):
        raise KintoneError("CB_IJ01")
    kind = item.get("type")
    if kind == "URL":
        url = item.get("url")
        if not isinstance(url, str) or not url:
            problems.add(f"{key}.url", "required")
        elif not url.startswith("https://"):
            problems.add(f"{key}.url", "invalid_url")
        return {"type": "URL", "url": url}
    if kind == "FILE":
        file = item.get("file")
        file_key = file.get("fileKey") if isinstance(file, dict) else None
        if not isinstance(file_key, str) or not file_key:
            problems.add(f"{key}.file.fileKey", "required")
            return {"type": "FILE", "file": {}}
        stored = attach(conn, file_key, now)
        if stored is None:
            problems.add(f"{key}.file.fileKey", "invalid_file", file_key)
            return {"type": "FILE", "file": {}}
        return {"type": "FILE", "file": stored}
    problems.add(f"{key}.type", "enum")
    return {"type": kind}
