"""The sandbox as one object: storage, clock, directory, configuration and runtime registries."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .clock import Clock
from .directory import Directory
from .store import Database


@dataclass
class SandboxConfig:
    language: str = "en"  # organisation default for error messages and system field codes
    timezone: str = "UTC"  # organisation default time zone (users may override)
    basic_auth: tuple[str, str] | None = None  # the optional domain-level Basic layer
    concurrency_limit: int = 100
    cursor_limit: int = 10
    cursor_ttl_seconds: int = 600


@dataclass
class Faults:
    """Injected failures for client resilience tests (set through ``/__sandbox/faults``)."""

    latency_ms: int = 0
    rate_429: float = 0.0
    rate_503: float = 0.0
    rate_drop: float = 0.0


class InFlight:
    """Counts concurrent Kintone API requests for the X-ConcurrencyLimit-* headers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0

    def enter(self) -> int:
        with self._lock:
            self.running += 1
            return self.running

    def leave(self) -> None:
        with self._lock:
            self.running -= 1


@dataclass
class Sandbox:
    db_path: str = ":memory:"
    config: SandboxConfig = field(default_factory=SandboxConfig)

    def __post_init__(self) -> None:
        self.db = Database(self.db_path)
        self.clock = Clock()
        self.directory = Directory(self.db)
        self.faults = Faults()
        self.inflight = InFlight()
        self.extensions: dict[str, object] = {}  # runtime registries (cursors, webhooks)

    def registry(self, name: str, factory):
        """A per-sandbox runtime registry (e.g. cursors), created on first use."""
        with self.db.lock:
            if name not in self.extensions:
                self.extensions[name] = factory(self)
            return self.extensions[name]

    def reset(self) -> None:
        """Forget all data and runtime state; the configuration stays."""
        with self.db.lock:
            self.db.reset()
            self.extensions.clear()
            self.clock.set()
            self.faults = Faults()
