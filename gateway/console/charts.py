"""The Metrics page's charts: the last hour, a minute per point, drawn as server-side SVG (a
polyline per series; no chart library, no script)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .activity import MINUTES, Minute

WIDTH, HEIGHT = 600, 120


@dataclass(frozen=True)
class Series:
    name: str
    colour: str  # dark enough to read on white
    values: tuple[float, ...]

    def points(self, top: float) -> str:
        step = WIDTH / (MINUTES - 1)
        return " ".join(f"{i * step:.1f},{HEIGHT - value / top * HEIGHT:.1f}"
                        for i, value in enumerate(self.values))


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    series: tuple[Series, ...]

    @property
    def top(self) -> float:
        """The y axis' top: the largest value, at least 1."""
        return max([1.0, *(v for s in self.series for v in s.values)])

    @property
    def summary(self) -> str:
        """The chart in words, for screen readers and for tests."""
        return "; ".join(f"{s.name}: latest {s.values[-1]:g}, highest {max(s.values):g}"
                         for s in self.series)


def charts(minutes: Sequence[Minute]) -> list[Chart]:
    def series(name: str, colour: str, value: Callable[[Minute], float]) -> Series:
        return Series(name, colour, tuple(value(m) for m in minutes))

    return [
        Chart("Requests per minute", "requests", (
            series("answered", "#12355b", lambda m: m.requests),
            series("rate-limited (429)", "#8a4b00", lambda m: m.refusals),
            series("errors (5xx)", "#9b1c1c", lambda m: m.errors))),
        Chart("Latency", "ms", (
            series("p50", "#12355b", lambda m: m.percentile(0.5)),
            series("p95", "#8a4b00", lambda m: m.percentile(0.95)),
            series("p99", "#9b1c1c", lambda m: m.percentile(0.99)))),
        Chart("Kintone calls per minute", "calls", (
            series("calls", "#12355b", lambda m: m.kintone_calls),
            series("failed", "#9b1c1c", lambda m: m.kintone_failures))),
    ]
