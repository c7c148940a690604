"""Per-feature, per-path call metrics: counted in memory, flushed to the store in batches.

``Metrics.record`` is on the request path, so it only updates two small dicts under one
uncontended lock (no I/O, no allocation beyond the first call of a feature/path). A
daemon thread flushes the accumulated deltas to the route store every
``metrics_flush_interval`` seconds and once more at interpreter exit, where
``strangler route status`` merges what every process sent. A failed flush keeps its
batch for the next attempt, so a store outage delays counters instead of losing them.

Prometheus (optional extra ``metrics``): :meth:`Metrics.enable_prometheus` registers a
collector that reads the process totals at scrape time, which keeps the
prometheus_client label lookups off the hot path as well.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from shims.config import mask_url
from shims.stats import LATENCY_BOUNDS, PathStats, merge_all
from shims.stores.base import RouteStore

__all__ = ["Metrics"]

log = logging.getLogger("shims.metrics")

_Key = tuple[str, str]
_LIVE: weakref.WeakSet[Metrics] = weakref.WeakSet()


class _Acc:
    """Mutable accumulator of one (feature, path) between two flushes."""

    __slots__ = ("latency", "outcomes", "seconds")

    def __init__(self) -> None:
        self.outcomes: dict[str, int] = {}
        self.latency: dict[int, int] = {}
        self.seconds = 0.0


class Metrics:
    """In-memory aggregation with a background flush to ``store`` (``None``: memory only)."""

    def __init__(self, store: RouteStore | None, flush_interval: float = 2.0) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval}")
        self.store = store
        self.flush_interval = flush_interval
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: dict[_Key, _Acc] = {}
        self._unsent: dict[_Key, PathStats] = {}
        self._totals: dict[_Key, PathStats] = {}
        self._seconds: dict[_Key, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self._exported: tuple[Any, Any] | None = None  # (registry, collector)
        _LIVE.add(self)

    def record(self, feature: str, path: str, outcome: str, seconds: float) -> None:
        """Count one call of ``feature`` on ``path`` with ``outcome``, taking ``seconds``."""
        index = bisect_left(LATENCY_BOUNDS, seconds)
        key = (feature, path)
        with self._lock:
            acc = self._pending.get(key)
            if acc is None:
                acc = self._pending[key] = _Acc()
            acc.outcomes[outcome] = acc.outcomes.get(outcome, 0) + 1
            acc.latency[index] = acc.latency.get(index, 0) + 1
            acc.seconds += seconds
        if self._thread is None and self.store is not None:
            self._start()

    def snapshot(self) -> dict[_Key, PathStats]:
        """Everything this process recorded so far (flushed or not), by (feature, path)."""
        with self._lock:
            pending = [_stats(k, a) for k, a in self._pending.items()]
            totals = list(self._totals.values())
        return merge_all([*totals, *pending])

    def flush(self) -> bool:
        """Send the accumulated deltas to the store now; ``False`` if the store failed.

        Safe to call from any thread; the background thread and ``atexit`` call it.
        """
        with self._flush_lock:
            batch = self._take()
            if self.store is None or not batch:
                return True
            try:
                self.store.add_metrics(batch.values())
            except Exception as exc:
                self._unsent = batch  # retried, merged with newer deltas, next time
                if not self._failing:
                    self._failing = True
                    log.warning(
                        "metrics flush to %s failed (%s); will retry",
                        mask_url(self.store.url),
                        type(exc).__name__,
                    )
                return False
            self._unsent = {}
            self._failing = False
            return True

    def close(self) -> None:
        """Stop the flush thread and flush what is left (also run at interpreter exit)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.flush_interval + 1)
        self.flush()
        if self._exported is not None:  # so a replacement runtime can register its own
            registry, collector = self._exported
            registry.unregister(collector)
            self._exported = None
        _LIVE.discard(self)

    def enable_prometheus(self, registry: Any = None) -> Any:
        """Export the process totals to Prometheus; returns the registered collector.

        Needs ``prometheus_client`` (``pip install 'strangler[metrics]'``); imported
        here, not at module import, so the shims stay light without it.
        """
        try:
            from prometheus_client import REGISTRY
        except ImportError:
            raise RuntimeError(
                "Prometheus export needs prometheus_client: pip install 'strangler[metrics]'"
            ) from None
        registry = REGISTRY if registry is None else registry
        collector = _Collector(self)
        registry.register(collector)
        self._exported = (registry, collector)
        return collector

    # ------------------------------------------------------------ internals

    def _take(self) -> dict[_Key, PathStats]:
        """Swap out the pending deltas and fold them into the totals and the unsent batch."""
        with self._lock:
            pending, self._pending = self._pending, {}
            fresh = [_stats(k, a) for k, a in pending.items()]
            self._totals = merge_all([*self._totals.values(), *fresh])
            for key, acc in pending.items():
                self._seconds[key] = self._seconds.get(key, 0.0) + acc.seconds
        return merge_all([*self._unsent.values(), *fresh])

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="strangler-metrics-flush", daemon=True
            )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    def _after_fork(self) -> None:
        """The child starts empty: the parent flushes what it recorded before the fork."""
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending, self._unsent, self._totals, self._seconds = {}, {}, {}, {}
        self._thread = None
        self._stop = threading.Event()

    def _prometheus_rows(self) -> Iterator[tuple[_Key, PathStats, float]]:
        stats = self.snapshot()
        with self._lock:
            seconds = dict(self._seconds)
            for key, acc in self._pending.items():
                seconds[key] = seconds.get(key, 0.0) + acc.seconds
        for key in sorted(stats):
            yield key, stats[key], seconds.get(key, 0.0)


class _Collector:
    """A prometheus_client custom collector over :meth:`Metrics.snapshot`."""

    # Every 5th bucket bound (2 per decade, 1 µs .. 100 s): the exported cumulative
    # counts stay exact because these bounds are bounds of the finer internal buckets.
    _EXPORTED = tuple(range(0, len(LATENCY_BOUNDS), 5))

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> Iterator[Any]:
        """The metric families, without samples: lets a registry refuse duplicates."""
        return iter(_families())

    def collect(self) -> Iterator[Any]:
        calls, latency = _families()
        for (feature, path), stats, seconds in self.metrics._prometheus_rows():
            for outcome, count in sorted(stats.outcomes.items()):
                calls.add_metric([feature, path, outcome], count)
            latency.add_metric([feature, path], _cumulative(stats, self._EXPORTED), seconds)
        yield calls
        yield latency


def _families() -> tuple[Any, Any]:
    from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

    calls = CounterMetricFamily(
        "strangler_calls",
        "Calls routed by the strangler shim, by feature, path and outcome.",
        labels=["feature", "path", "outcome"],
    )
    latency = HistogramMetricFamily(
        "strangler_call_duration_seconds",
        "Duration of calls routed by the strangler shim, by feature and path.",
        labels=["feature", "path"],
    )
    return calls, latency


def _cumulative(stats: PathStats, exported: tuple[int, ...]) -> list[tuple[str, float]]:
    buckets: list[tuple[str, float]] = []
    for index in exported:
        count = sum(n for i, n in stats.latency.items() if i <= index)
        buckets.append((repr(LATENCY_BOUNDS[index]), float(count)))
    buckets.append(("+Inf", float(sum(stats.latency.values()))))
    return buckets


def _stats(key: _Key, acc: _Acc) -> PathStats:
    # str() turns a StrEnum path/outcome into its plain value before it is stored.
    return PathStats(
        str(key[0]),
        str(key[1]),
        {str(o): n for o, n in acc.outcomes.items()},
        dict(acc.latency),
    )


def _flush_all_at_exit() -> None:
    for metrics in list(_LIVE):
        try:
            metrics.close()
        except Exception:  # never let a metrics flush break interpreter shutdown
            log.exception("final metrics flush failed")


def _reset_after_fork() -> None:
    for metrics in list(_LIVE):
        metrics._after_fork()


atexit.register(_flush_all_at_exit)
os.register_at_fork(after_in_child=_reset_after_fork)
