"""What the current caller may see of the model: the sets it may GET (everything for a user
with GET on ``*``). Narrowed models are cached per model and per set of visible names (the
rights signature that matters), not per user, so a thousand users with the same rights share
one. Their documents (``$metadata``, the service document) are kept beside them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from weakref import WeakKeyDictionary

from ..model import Model, narrowed
from ..odata.documents import Documents
from ..security import can

MAX_SIGNATURES = 64  # narrowed models kept per model; more distinct rights rebuild each time


class DescribedModels:
    def __init__(self, models: Callable[[], Model]) -> None:
        self._models = models
        self._lock = threading.Lock()
        self._cache: WeakKeyDictionary[Model, dict[frozenset[str], Model]] = \
            WeakKeyDictionary()
        self.documents = Documents()  # by narrowed model: what each set of rights sees

    def get(self) -> Model:
        """The current model as the current caller may see it."""
        model = self._models()
        visible = frozenset(name for name in model.entity_sets if can("GET", name))
        if len(visible) == len(model.entity_sets):
            return model
        with self._lock:
            by_signature = self._cache.setdefault(model, {})
            found = by_signature.get(visible)
        if found is None:
            found = narrowed(model, visible.__contains__)
            with self._lock:
                if len(by_signature) >= MAX_SIGNATURES:
                    by_signature.clear()
                by_signature[visible] = found
        return found
