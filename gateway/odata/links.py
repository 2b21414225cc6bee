"""URLs the gateway hands out (service root, next links) and the request parts they keep."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

from ..settings import Settings
from .numbers import non_negative_int64
from .resource import ResourcePath

SERVICE_PATH = "/api.rsc"
SKIPTOKEN = "$skiptoken"
# The options that define a result: a skiptoken is only valid with the same values.
_RESULT_OPTIONS = ("$filter", "$orderby", "$top", "$skip")
_MAXPAGESIZE = re.compile(r"(?:odata\.)?maxpagesize\s*=\s*\"?([^\"]*)\"?", re.I)


def service_root(settings: Settings, host_url: str, resource: ResourcePath) -> str:
    """The absolute service root, e.g. ``https://gw.example.com/api.rsc`` (or ``.../@token``):
    ``PublicURL`` behind a reverse proxy, else the URL the request came to."""
    base = settings.gateway.public_url or host_url.rstrip("/")
    return f"{base}{SERVICE_PATH}{resource.root_path}"


def option_name(raw_name: str) -> str:
    """A query option's canonical name: ``%24top``, ``$TOP`` and ``top`` are all ``$top``."""
    name = unquote(raw_name).lower()
    return name if name.startswith("$") else f"${name}"


def fingerprint(entity_set: str, pairs: Sequence[tuple[str, str]]) -> str:
    values = {option_name(name): value for name, value in pairs}
    return "\n".join([entity_set, *(values.get(name, "") for name in _RESULT_OPTIONS)])


def next_link(root: str, entity_set: str, raw_query: str, token: str) -> str:
    """The URL of the next page: this request's query, raw (so a ``+`` stays a plus), with the
    skiptoken replaced."""
    kept = [part for part in raw_query.split("&")
            if part and option_name(part.partition("=")[0]) != SKIPTOKEN]
    return f"{root}/{entity_set}?{'&'.join([*kept, f'{SKIPTOKEN}={token}'])}"


def max_page_size(prefer: str | None) -> int | None:
    """``odata.maxpagesize`` from a ``Prefer`` header (4.01 allows ``maxpagesize``)."""
    for preference in (prefer or "").split(","):
        match = _MAXPAGESIZE.fullmatch(preference.strip())
        size = match and non_negative_int64(match.group(1))
        if size:
            return size
    return None
