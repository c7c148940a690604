"""PathStats: counters by outcome and a mergeable latency histogram."""

from __future__ import annotations

import random

import pytest

from shims.stats import LATENCY_BOUNDS, PathStats, latency_bucket, merge_all


def stats_of(samples: list[float], feature: str = "f", path: str = "monolith") -> PathStats:
    latency: dict[int, int] = {}
    for s in samples:
        latency[latency_bucket(s)] = latency.get(latency_bucket(s), 0) + 1
    return PathStats(feature, path, {"ok": len(samples)}, latency)


def test_bucket_bounds_are_inclusive_and_overflow_has_its_own_bucket() -> None:
    assert latency_bucket(0.0) == 0
    assert latency_bucket(1e-6) == 0
    assert latency_bucket(1.1e-6) == 1
    assert latency_bucket(1e6) == len(LATENCY_BOUNDS)


@pytest.mark.parametrize("q", [0.5, 0.9, 0.99])
def test_percentile_is_within_one_bucket_of_the_exact_value(q: float) -> None:
    rng = random.Random(7)
    samples = [rng.lognormvariate(-6, 1.5) for _ in range(20_000)]
    exact = sorted(samples)[int(q * len(samples)) - 1]
    estimate = stats_of(samples).percentile(q)
    assert estimate is not None
    assert exact / 10**0.1 <= estimate <= exact * 10**0.1


def test_percentiles_of_merged_histograms_match_the_whole() -> None:
    rng = random.Random(3)
    samples = [rng.uniform(0.001, 0.2) for _ in range(5000)]
    whole = stats_of(samples)
    parts = [stats_of(samples[i::3]) for i in range(3)]
    merged = merge_all(parts)[("f", "monolith")]
    assert merged.latency == whole.latency
    assert merged.percentile(0.99) == whole.percentile(0.99)
    assert merged.calls == 5000


def test_no_samples_no_percentile() -> None:
    assert PathStats("f", "p").percentile(0.5) is None


def test_counters_by_outcome() -> None:
    s = PathStats(
        "f", "function", {"ok": 5, "error": 2, "timeout": 1, "fallback": 3, "mismatch": 4}
    )
    assert (s.calls, s.errors, s.fallbacks, s.mismatches) == (15, 3, 3, 4)
    d = s.to_dict()
    assert d["calls"] == 15
    assert d["errors"] == 3
    assert d["p50_ms"] is None


def test_merging_different_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot merge"):
        PathStats("a", "p").merge(PathStats("b", "p"))
