"""ModelCache: TTL with an injected clock, one rebuild under concurrency, stale-on-error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.model import Model, ModelCache, ModelUnavailable, build_model


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """Counts calls; raises whatever is queued in ``errors`` first."""

    def __init__(self) -> None:
        self.calls = 0
        self.errors: list[BaseException] = []

    def __call__(self) -> Model:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return build_model([], {})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def loader() -> Loader:
    return Loader()


def make(loader, clock, **kw) -> ModelCache:
    return ModelCache(loader, ttl_seconds=60, clock=clock, **kw)


def test_serves_the_cached_model_until_the_ttl(loader, clock):
    cache = make(loader, clock)
    first = cache.get()
    clock.now += 59.9
    assert cache.get() is first
    assert loader.calls == 1
    clock.now += 0.1
    second = cache.get()
    assert second is not first
    assert loader.calls == 2


def test_invalidate_forces_a_rebuild(loader, clock):
    cache = make(loader, clock)
    first = cache.get()
    cache.invalidate()
    assert cache.get() is not first
    assert loader.calls == 2


def test_concurrent_callers_share_one_rebuild(clock):
    release = threading.Event()
    calls = []

    def slow_loader() -> Model:
        calls.append(1)
        release.wait(5)
        return build_model([], {})

    cache = ModelCache(slow_loader, ttl_seconds=60, clock=clock)
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(cache.get) for _ in range(16)]
        while not calls:
            threading.Event().wait(0.01)
        threading.Event().wait(0.1)  # let the others reach the wait
        release.set()
        models = {id(f.result(timeout=5)) for f in futures}
    assert len(calls) == 1
    assert len(models) == 1


def test_failure_with_a_previous_model_serves_it_stale(loader, clock):
    cache = make(loader, clock, retry_seconds=30)
    first = cache.get()
    clock.now += 60
    loader.errors.append(ConnectionError("kintone down"))
    assert cache.get() is first
    clock.now += 29  # within retry_seconds: no new attempt
    assert cache.get() is first
    assert loader.calls == 2
    clock.now += 1
    assert cache.get() is not first  # retried and recovered
    assert loader.calls == 3


def test_failure_without_a_model_raises_and_is_not_retried_at_once(loader, clock):
    cache = make(loader, clock, retry_seconds=30)
    loader.errors.append(ConnectionError("kintone down"))
    with pytest.raises(ModelUnavailable) as raised:
        cache.get()
    assert isinstance(raised.value.__cause__, ConnectionError)
    with pytest.raises(ModelUnavailable):
        cache.get()
    assert loader.calls == 1
    clock.now += 30
    assert isinstance(cache.get(), Model)
    assert loader.calls == 2


def test_invalidate_retries_at_once_after_a_failure(loader, clock):
    cache = make(loader, clock)
    loader.errors.append(ConnectionError("kintone down"))
    with pytest.raises(ModelUnavailable):
        cache.get()
    cache.invalidate()
    assert isinstance(cache.get(), Model)


def test_a_too_old_model_is_dropped_when_rebuilds_fail(loader, clock):
    cache = make(loader, clock, retry_seconds=30, max_stale_seconds=600)
    first = cache.get()
    clock.now += 590
    loader.errors.append(ConnectionError("down"))
    assert cache.get() is first
    clock.now += 30  # 620 s old now
    loader.errors.append(ConnectionError("still down"))
    with pytest.raises(ModelUnavailable):
        cache.get()
    with pytest.raises(ModelUnavailable):
        cache.get()


def test_waiters_get_the_failure_instead_of_retrying_one_by_one(clock):
    release = threading.Event()
    calls = []

    def failing_loader() -> Model:
        calls.append(1)
        release.wait(5)
        raise ConnectionError("kintone down")

    cache = ModelCache(failing_loader, ttl_seconds=60, clock=clock)
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(cache.get) for _ in range(8)]
        while not calls:
            threading.Event().wait(0.01)
        threading.Event().wait(0.1)
        release.set()
        for future in futures:
            with pytest.raises(ModelUnavailable):
                future.result(timeout=5)
    assert len(calls) == 1


def test_invalidate_during_a_rebuild_makes_its_result_stale(clock):
    started, release = threading.Event(), threading.Event()
    calls = []

    def loader() -> Model:
        calls.append(1)
        if len(calls) == 1:
            started.set()
            release.wait(5)
        return build_model([], {})

    cache = ModelCache(loader, ttl_seconds=60, clock=clock)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(cache.get)
        started.wait(5)
        cache.invalidate()  # e.g. an app was deployed while its old fields were being read
        release.set()
        outdated = pending.result(timeout=5)
    assert cache.get() is not outdated
    assert len(calls) == 2


def test_a_base_exception_does_not_wedge_the_cache(loader, clock):
    cache = make(loader, clock)
    loader.errors.append(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        cache.get()
    assert isinstance(cache.get(), Model)


class Revisions:
    """``refreshed()`` for the cache: counts checks; a new model unless ``same``; or raises
    ``error``."""

    def __init__(self) -> None:
        self.checks = 0
        self.same = True
        self.error: BaseException | None = None

    def __call__(self) -> Model | None:
        self.checks += 1
        if self.error is not None:
            raise self.error
        return None if self.same else build_model([], {})


def test_an_unchanged_model_is_checked_not_rebuilt(loader, clock):
    revisions = Revisions()
    cache = make(loader, clock, refreshed=revisions)
    first = cache.get()
    assert revisions.checks == 0  # a first build has nothing to check
    clock.now += 60
    assert cache.get() is first and (loader.calls, revisions.checks) == (1, 1)
    clock.now += 59.9
    assert cache.get() is first and revisions.checks == 1  # fresh for another TTL


def test_a_changed_model_is_rebuilt_and_told(loader, clock):
    revisions, told = Revisions(), []
    cache = make(loader, clock, refreshed=revisions)
    cache.when_changed(lambda: told.append(1))
    first = cache.get()
    revisions.same = False
    clock.now += 60
    assert cache.get() is not first and (loader.calls, revisions.checks) == (1, 1)
    assert told == [1]  # built by the check, from what it read


def test_an_invalidated_model_is_rebuilt_unchecked(loader, clock):
    revisions = Revisions()
    cache = make(loader, clock, refreshed=revisions)
    first = cache.get()
    cache.invalidate()
    assert cache.get() is not first and (loader.calls, revisions.checks) == (2, 0)


def test_a_failed_check_serves_the_model_and_retries_later(loader, clock):
    revisions = Revisions()
    cache = make(loader, clock, refreshed=revisions, retry_seconds=30)
    first = cache.get()
    revisions.error = ConnectionError("Kintone is down")
    clock.now += 60
    assert cache.get() is first and revisions.checks == 1
    clock.now += 10
    assert cache.get() is first and revisions.checks == 1  # within retry_seconds
    revisions.error = None
    clock.now += 30
    assert cache.get() is first and (loader.calls, revisions.checks) == (1, 2)
