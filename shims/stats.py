"""Mergeable per-feature, per-path call statistics: outcome counters and a latency histogram.

Percentiles cannot be averaged across processes or flushes, so each process records
latencies into the same fixed, logarithmic buckets (10 per decade from 1 µs to 100 s)
and the store only ever *adds* bucket counts; p50/p99 are read from the merged counts.
Written by hand because it is twenty lines and must be cheap on the hot path; the
Prometheus export (``shims.metrics``) reuses the same buckets.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from math import ceil
from typing import TypeVar

__all__ = [
    "ERROR_OUTCOMES",
    "LATENCY_BOUNDS",
    "Outcome",
    "PathStats",
    "latency_bucket",
    "merge_all",
]

K = TypeVar("K")

# Upper bounds (seconds) of the latency buckets; index len(LATENCY_BOUNDS) is overflow.
LATENCY_BOUNDS: tuple[float, ...] = tuple(float(f"{10 ** (k / 10) * 1e-6:.6g}") for k in range(81))


class Outcome:
    """The outcome names the shims record (plain strings: cheap to pass and to store)."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    FALLBACK = "fallback"
    MATCH = "match"
    MISMATCH = "mismatch"


ERROR_OUTCOMES = frozenset({Outcome.ERROR, Outcome.TIMEOUT})


def latency_bucket(seconds: float) -> int:
    """Index of the bucket ``seconds`` falls into (bounds are inclusive upper bounds)."""
    return bisect_left(LATENCY_BOUNDS, seconds)


@dataclass(frozen=True, slots=True)
class PathStats:
    """Counters for one (feature, path): every recorded call counts once in ``outcomes``.

    ``latency`` maps a bucket index (see :data:`LATENCY_BOUNDS`) to a count of calls.
    """

    feature: str
    path: str
    outcomes: Mapping[str, int] = field(default_factory=dict)
    latency: Mapping[int, int] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.feature, self.path)

    @property
    def calls(self) -> int:
        return sum(self.outcomes.values())

    @property
    def errors(self) -> int:
        return sum(self.outcomes.get(o, 0) for o in ERROR_OUTCOMES)

    @property
    def fallbacks(self) -> int:
        return self.outcomes.get(Outcome.FALLBACK, 0)

    @property
    def mismatches(self) -> int:
        return self.outcomes.get(Outcome.MISMATCH, 0)

    def merge(self, other: PathStats) -> PathStats:
        """The sum of two aggregates of the same (feature, path)."""
        if other.key != self.key:
            raise ValueError(f"cannot merge {other.key} into {self.key}")
        return PathStats(
            self.feature,
            self.path,
            _add(self.outcomes, other.outcomes),
            _add(self.latency, other.latency),
        )

    def percentile(self, q: float) -> float | None:
        """Latency (seconds) at quantile ``q`` in [0, 1], or ``None`` with no samples.

        Interpolated geometrically inside the bucket that holds the rank, so the error
        is bounded by the bucket width (a factor of 10**0.1, about 26%).
        """
        total = sum(self.latency.values())
        if total == 0:
            return None
        rank = max(1, ceil(q * total))
        seen = 0
        for index in sorted(self.latency):
            count = self.latency[index]
            if seen + count >= rank:
                return _interpolate(index, (rank - seen) / count)
            seen += count
        return LATENCY_BOUNDS[-1]  # unreachable: ranks never exceed the total

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary (what ``strangler route status --format json`` prints)."""
        return {
            "feature": self.feature,
            "path": self.path,
            "calls": self.calls,
            "errors": self.errors,
            "fallbacks": self.fallbacks,
            "mismatches": self.mismatches,
            "p50_ms": _ms(self.percentile(0.50)),
            "p99_ms": _ms(self.percentile(0.99)),
            "outcomes": dict(sorted(self.outcomes.items())),
        }


def merge_all(stats: Iterable[PathStats]) -> dict[tuple[str, str], PathStats]:
    """Fold many aggregates into one per (feature, path)."""
    merged: dict[tuple[str, str], PathStats] = {}
    for item in stats:
        current = merged.get(item.key)
        merged[item.key] = item if current is None else current.merge(item)
    return merged


def _add(a: Mapping[K, int], b: Mapping[K, int]) -> dict[K, int]:
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, 0) + value
    return out


def _interpolate(index: int, fraction: float) -> float:
    if index >= len(LATENCY_BOUNDS):
        return LATENCY_BOUNDS[-1]
    upper = LATENCY_BOUNDS[index]
    lower = LATENCY_BOUNDS[index - 1] if index > 0 else upper / 10**0.1
    return float(lower * (upper / lower) ** fraction)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
