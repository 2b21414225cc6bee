"""A thread-safe TTL cache of the model, which is costly to build (one fields.json per app).

Behaviour of ``get()``:

* A model younger than ``ttl_seconds`` is returned at once.
* Otherwise one caller runs the loader while every other caller waits for its result, so a
  burst of requests after expiry costs one rebuild, not N.
* If the loader fails and a previous model exists that was built less than
  ``max_stale_seconds`` ago, that model keeps being served and the loader is retried no sooner
  than ``retry_seconds`` later, so a Kintone outage neither takes the service down at once nor
  gets hammered by every request.
* If the loader fails and there is no usable model, the callers get ``ModelUnavailable`` (its
  ``__cause__`` is the loader's exception); for ``retry_seconds`` after that failure further
  callers get it too without calling the loader again.

``invalidate()`` makes the next ``get()`` rebuild (e.g. after an app was deployed); a rebuild
already running when it is called does not count as fresh.

With ``refreshed`` (a model built anew when the apps changed since the last one was built, their
list or form revisions, else None), a model past its TTL is checked instead of rebuilt, by the
one caller that would rebuild it: unchanged, it stays fresh for another TTL (its identity, and
whatever is cached per model, kept); changed, the new model replaces it and ``when_changed``
callbacks run (e.g. to tell the other instances of a cluster). After ``invalidate()`` the model
is loaded unchecked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .schema import Model

log = logging.getLogger(__name__)


class ModelUnavailable(RuntimeError):
    """No model can be served: the loader failed and there is no usable previous model."""


@dataclass(frozen=True)
class _Failure:
    error: BaseException
    at: float


class ModelCache:
    def __init__(
        self,
        loader: Callable[[], Model],
        ttl_seconds: float,
        *,
        retry_seconds: float = 30.0,
        max_stale_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        refreshed: Callable[[], Model | None] | None = None,
    ) -> None:
        self._loader = loader
        self._refreshed = refreshed
        self._changed: list[Callable[[], None]] = []
        self._checkable = False  # the model may be checked instead of rebuilt
        self._ttl = ttl_seconds
        self._retry = retry_seconds
        self._max_stale = max_stale_seconds
        self._clock = clock
        self._cond = threading.Condition()
        self._model: Model | None = None
        self._built_at = 0.0
        self._fresh_until = float("-inf")
        self._failure: _Failure | None = None
        self._building = False
        # Bumped by invalidate(); a rebuild that started in an older generation is not fresh.
        self._generation = 0

    def get(self) -> Model:
        with self._cond:
            while True:
                model = self._servable()
                if model is not None:
                    return model
                if not self._building:
                    self._building = True
                    generation = self._generation
                    checked = (self._checkable and self._model is not None
                               and self._refreshed is not None)
                    break
                self._cond.wait()
        return self._run(generation, self._check if checked else self._loader)

    def invalidate(self) -> None:
        with self._cond:
            self._generation += 1
            self._fresh_until = float("-inf")
            self._failure = None
            self._checkable = False

    def when_changed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when a check finds the apps changed."""
        self._changed.append(callback)

    def _check(self) -> Model | None:
        """The model built anew if the apps changed (and the change told), else None."""
        assert self._refreshed is not None
        model = self._refreshed()
        if model is not None:
            log.info("an app or its form changed: the model was rebuilt")
            for callback in self._changed:
                try:
                    callback()
                except Exception:  # the others then find the change at their own check
                    log.warning("telling that the apps changed failed", exc_info=True)
        return model

    def _run(self, generation: int, load: Callable[[], Model | None]) -> Model:
        """Run ``load``: the loader, or the check (None: the model is still the apps')."""
        try:
            model = load()
        except Exception as exc:
            return self._failed(exc)
        except BaseException:
            with self._cond:
                self._finish()
            raise
        with self._cond:
            current = generation == self._generation
            fresh = model if model is not None else self._model if current else None
            if fresh is not None:
                now = self._clock()
                # A model checked unchanged is as good as rebuilt now, for failures too.
                self._model, self._built_at, self._failure = fresh, now, None
                self._fresh_until = now + self._ttl if current else now
                self._checkable = current
            self._finish()
        return fresh if fresh is not None else self.get()  # invalidated while checked: load

    def _servable(self) -> Model | None:
        """What to return without loading; raises if a recent failure left nothing to serve."""
        now = self._clock()
        if self._model is not None and now < self._fresh_until:
            return self._model
        failure = self._failure
        if failure is not None and now < failure.at + self._retry:
            if self._usable_stale(now):
                return self._model
            raise ModelUnavailable("the Kintone app model could not be loaded") from failure.error
        return None

    def _usable_stale(self, now: float) -> bool:
        return self._model is not None and now < self._built_at + self._max_stale

    def _failed(self, exc: Exception) -> Model:
        with self._cond:
            now = self._clock()
            self._failure = _Failure(exc, now)
            self._finish()
            stale = self._model if self._usable_stale(now) else None
            # Too old to trust: drop it so that nothing serves it any more.
            self._model = stale
        if stale is not None:
            log.warning("rebuilding the model failed; serving the previous one", exc_info=exc)
            return stale
        raise ModelUnavailable("the Kintone app model could not be loaded") from exc

    def _finish(self) -> None:
        self._building = False
        self._cond.notify_all()
