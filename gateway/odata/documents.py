"""The service's descriptions (``$metadata``, the service document, ``$oas``) served with a
strong ETag, answered 304 when the client has them, and built once per model and variant.

A document's ETag is a digest of its bytes, so it changes with everything the document
depends on and with nothing else: the apps' schema (a rebuilt model is a new ``Model``), the
caller's rights (each set of visible apps has its own narrowed model), the settings and the
request's variant (format, origin, token). Two users with the same rights share the tag.

``Cache-Control: private, no-cache``: a document depends on who asks, so no shared cache may
keep it, and the client revalidates it each time (a 304 costs no build). A document reached
with the authtoken in its URL, which may name the token, is ``no-store``: nothing keeps it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from weakref import WeakKeyDictionary

from ..model import Model

PRIVATE = "private, no-cache"
NO_STORE = "no-store"


class Conditional(Protocol):
    """What ``revalidated`` uses of a Werkzeug response (this package imports no HTTP
    framework)."""

    @property
    def headers(self) -> Any: ...

    def set_etag(self, etag: str, weak: bool = False) -> None: ...

    def make_conditional(self, request_or_environ: Any) -> Any: ...


R = TypeVar("R", bound=Conditional)
VARIANTS_PER_MODEL = 64  # formats x origins x tokens x rights kept; the oldest go first


@dataclass(frozen=True)
class Document:
    body: bytes
    etag: str  # a strong ETag, without quotes

    @classmethod
    def of(cls, body: bytes) -> Document:
        return cls(body, hashlib.sha256(body).hexdigest()[:32])


class Documents:
    """Documents by model (dropped with it) and variant (whatever else shapes the bytes)."""

    def __init__(self, per_model: int = VARIANTS_PER_MODEL) -> None:
        self._per_model = per_model
        self._lock = threading.Lock()
        self._cache: WeakKeyDictionary[Model, OrderedDict[Hashable, Document]] = \
            WeakKeyDictionary()

    def get(self, model: Model, variant: Hashable, build: Callable[[], bytes]) -> Document:
        """The document of ``model`` and ``variant``; ``build()`` makes its bytes when it is
        not kept (two callers may then both build it: the same bytes)."""
        with self._lock:
            kept = self._cache.get(model)
            found = kept.get(variant) if kept is not None else None
        if found is not None:
            return found
        document = Document.of(build())
        with self._lock:
            kept = self._cache.setdefault(model, OrderedDict())
            kept[variant] = document
            while len(kept) > self._per_model:
                kept.popitem(last=False)
        return document


def revalidated(response: R, document: Document, request: Any, *, token_in_url: bool) -> R:
    """``response`` (carrying ``document``) with its ETag and Cache-Control, turned into a
    304 when the request's ``If-None-Match`` has the tag."""
    response.set_etag(document.etag)
    response.headers["Cache-Control"] = NO_STORE if token_in_url else PRIVATE
    response.make_conditional(request)  # in place
    return response
