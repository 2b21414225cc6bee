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

With ``unchanged`` (whether the apps are still those the model was built from: their list and
form revisions), a model past its TTL is first checked, by the one caller that would rebuild
it: unchanged, it stays fresh for another TTL without a rebuild (its identity, and whatever is
cached per model, kept); changed, it is rebuilt and ``when_changed`` callbacks run (e.g. to
tell the other instances of a cluster). After ``invalidate()`` the model is rebuilt unchecked.
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
        unchanged: Callable[[], bool] | None = None,
    ) -> None:
        self._loader = loader
        self._unchanged = unchanged
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
                    checked = self._checkable and self._unchanged is not None
                    break
                self._cond.wait()
        return self._checked(generation) if checked else self._rebuild(generation)

    def invalidate(self) -> None:
        with self._cond:
            self._generation += 1
            self._fresh_until = float("-inf")
            self._failure = None
            self._checkable = False

    def when_changed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when a check finds the apps changed (before the rebuild)."""
        self._changed.append(callback)

    def _checked(self, generation: int) -> Model:
        """The model, still fresh if the apps did not change since it was built; else rebuilt."""
        assert self._unchanged is not None
        try:
            same = self._unchanged()
        except Exception as exc:
            return self._failed(exc)
        except BaseException:
            with self._cond:
                self._finish()
            raise
        if not same:
            log.info("an app or its form changed: rebuilding the model")
            self._tell_changed()
            return self._rebuild(generation)
        with self._cond:
            model = self._model
            if model is not None and generation == self._generation:
                # As good as rebuilt now: it may serve as long after a failure, too.
                self._built_at = self._clock()
                self._fresh_until = self._built_at + self._ttl
                self._finish()
                return model
            generation = self._generation  # invalidated meanwhile: rebuilt after all
        return self._rebuild(generation)

    def _tell_changed(self) -> None:
        for callback in self._changed:
            try:
                callback()
            except Exception:  # the others then find the change at their own check
                log.warning("telling that the apps changed failed", exc_info=True)

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

    def _rebuild(self, generation: int) -> Model:
        try:
            model = self._loader()
        except Exception as exc:
            return self._failed(exc)
        except BaseException:
            with self._cond:
                self._finish()
            raise
        with self._cond:
            now = self._clock()
            self._model, self._built_at, self._failure = model, now, None
            self._fresh_until = now + self._ttl if generation == self._generation else now
            self._checkable = generation == self._generation
            self._finish()
        return model

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
