"""Per-feature, per-path call metrics: counted in memory, flushed to the store in batches.

``Metrics.record`` is on the request path, so it takes no lock and does no I/O: each
thread adds to its own cumulative row per (feature, path, outcome) (a bucket count and
the summed seconds; allocated on the first call of a key on a thread). A daemon thread
copies every thread's rows and sends the deltas since its last flush to the route
store every ``metrics_flush_interval`` seconds and once more at interpreter exit, where
``strangler route status`` merges what every process sent. A failed flush keeps its
batch for the next attempt, so a store outage delays counters instead of losing them.

The same flush carries the shadow mismatch samples the comparisons found
(:meth:`Metrics.add_mismatch`, called from the shadow pool, never the request path) to
the store, where ``strangler route mismatches`` reads them. Their buffer is bounded:
per feature the newest ``MISMATCH_SAMPLES`` (what the store keeps anyway), for at most
``SAMPLE_FEATURES`` features; anything beyond (a store outage, a burst of mismatches
within one flush interval) is dropped oldest first and counted in ``samples_dropped``.

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
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from shims.config import mask_url
from shims.stats import LATENCY_BOUNDS, PathStats, merge_all
from shims.stores.base import MISMATCH_SAMPLES, MismatchSample, RouteStore

__all__ = ["SAMPLE_FEATURES", "Metrics"]

log = logging.getLogger("shims.metrics")

_Key = tuple[str, str]
_Row = tuple[str, str, str]  # (feature, path, outcome)
_SECONDS = len(LATENCY_BOUNDS) + 1  # a row: the bucket counts (overflow last), then seconds
_WIDTH = _SECONDS + 1
_LIVE: weakref.WeakSet[Metrics] = weakref.WeakSet()
SAMPLE_FEATURES = 200  # features whose mismatch samples one process buffers at once


class _Cells:
    """One thread's cumulative counters: ``(feature, path, outcome)`` -> histogram row.

    A row is ``len(LATENCY_BOUNDS) + 1`` bucket counts followed by the summed seconds.
    Only the owning thread writes its rows; the flusher only copies them, so the hot
    path needs no lock and no count can be lost between a write and a flush.
    """

    __slots__ = ("flushed", "rows", "thread")

    def __init__(self, thread: threading.Thread | None) -> None:
        self.thread = thread
        self.rows: dict[_Row, list[float]] = {}
        self.flushed: dict[_Row, list[float]] = {}  # what the store already has


class Metrics:
    """In-memory aggregation with a background flush to ``store`` (``None``: memory only).

    Written by hand (not prometheus_client's counters) because ``record`` runs on every
    routed call and must stay well under a microsecond: each thread counts into its own
    rows (a ``threading.local``), lock-free, and the flusher sends the difference
    between a copy of every thread's rows and what it sent before.
    """

    def __init__(self, store: RouteStore | None, flush_interval: float = 2.0) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval}")
        self.store = store
        self.flush_interval = flush_interval
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._local = threading.local()
        self._threads: list[_Cells] = []
        self._retired = _Cells(None)  # the rows of threads that have finished
        self._unsent: dict[_Key, PathStats] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self._exported: tuple[Any, Any] | None = None  # (registry, collector)
        self._samples_lock = threading.Lock()
        self._samples: dict[str, deque[MismatchSample]] = {}
        self.samples_dropped = 0  # mismatch samples this process never sent (buffer full)
        _LIVE.add(self)

    def record(self, feature: str, path: str, outcome: str, seconds: float) -> None:
        """Count one call of ``feature`` on ``path`` with ``outcome``, taking ``seconds``."""
        self.add((feature, path, outcome), seconds)

    def add(self, key: tuple[str, str, str], seconds: float) -> None:
        """:meth:`record` for a ``(feature, path, outcome)`` key built once by the caller.

        The hot path of ``@routed`` builds its keys at decoration time; this saves it
        a tuple and a call per routed call.
        """
        try:
            rows = self._local.rows
        except AttributeError:
            rows = self._adopt_thread()
        row = rows.get(key)
        if row is None:
            row = rows[key] = [0.0] * _WIDTH
        row[bisect_left(LATENCY_BOUNDS, seconds)] += 1
        row[_SECONDS] += seconds

    def add_mismatch(self, sample: MismatchSample) -> None:
        """Queue a shadow mismatch sample for the next flush (``None`` store: dropped).

        Called by the shadow pool after a comparison, off the request path; takes a
        short lock and does no I/O. Bounded: see the module docstring.
        """
        if self.store is None:
            return
        with self._samples_lock:
            self._buffer([sample])
        if self._thread is None:
            self._start()

    def snapshot(self) -> dict[_Key, PathStats]:
        """Everything this process recorded so far (flushed or not), by (feature, path)."""
        with self._lock:
            rows = [item for _, copied in self._copy_rows() for item in copied.items()]
        return merge_all(_stats(key, row) for key, row in rows if _count(row))

    def flush(self) -> bool:
        """Send the accumulated deltas to the store now; ``False`` if the store failed.

        Safe to call from any thread; the background thread and ``atexit`` call it.
        """
        with self._flush_lock:
            batch = self._take()
            samples = self._take_samples()
            if self.store is None or not (batch or samples):
                return True
            counted = False
            try:
                if batch:
                    self.store.add_metrics(batch.values())
                counted = True
                if samples:
                    self.store.add_mismatches(samples)
            except Exception as exc:
                # Retried next time, merged with what is recorded meanwhile.
                self._unsent = {} if counted else batch
                self._keep_samples(samples)
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
        """Copy every thread's rows, mark them flushed, merge the deltas with the unsent batch."""
        fresh: list[PathStats] = []
        with self._lock:
            for cells, copied in self._copy_rows():
                for key, row in copied.items():
                    before = cells.flushed.get(key)
                    if row == before:  # one C-level compare skips an idle row
                        continue
                    delta = row if before is None else _minus(row, before)
                    cells.flushed[key] = row
                    if _count(delta):
                        fresh.append(_stats(key, delta))
        return merge_all([*self._unsent.values(), *fresh])

    def _take_samples(self) -> list[MismatchSample]:
        """Every buffered mismatch sample, oldest first per feature; the buffer empties."""
        with self._samples_lock:
            buffered, self._samples = self._samples, {}
        return [sample for queue in buffered.values() for sample in queue]

    def _keep_samples(self, samples: list[MismatchSample]) -> None:
        """Put back samples a failed flush did not send, before the ones queued since."""
        with self._samples_lock:
            newer, self._samples = self._samples, {}
            self._buffer(samples)
            self._buffer(sample for queue in newer.values() for sample in queue)

    def _buffer(self, samples: Iterable[MismatchSample]) -> None:
        """Append to the bounded buffer (caller holds ``_samples_lock``)."""
        for sample in samples:
            queue = self._samples.get(sample.feature)
            if queue is None:
                if len(self._samples) >= SAMPLE_FEATURES:
                    self.samples_dropped += 1
                    continue
                queue = self._samples[sample.feature] = deque(maxlen=MISMATCH_SAMPLES)
            if len(queue) == MISMATCH_SAMPLES:
                self.samples_dropped += 1  # the deque drops its oldest
            queue.append(sample)

    def _copy_rows(self) -> list[tuple[_Cells, dict[_Row, list[float]]]]:
        """A copy of every thread's rows (caller holds ``_lock``).

        The rows of threads that have finished are folded into ``_retired`` first, so
        a server that starts a thread per request does not keep one entry per thread.
        A finished thread can no longer write, so folding it cannot lose a count.
        Copies of a dict or list are single C calls under the GIL: never torn.
        """
        alive: list[_Cells] = []
        retired = self._retired
        for cells in self._threads:
            if cells.thread is not None and cells.thread.is_alive():
                alive.append(cells)
            else:
                _fold(retired.rows, cells.rows)
                _fold(retired.flushed, cells.flushed)
        self._threads = alive
        return [(c, {k: r[:] for k, r in list(c.rows.items())}) for c in [retired, *alive]]

    def _adopt_thread(self) -> dict[_Row, list[float]]:
        """First ``record`` on this thread: give it its own rows (and start the flusher)."""
        cells = _Cells(threading.current_thread())
        with self._lock:
            self._threads.append(cells)
        self._local.rows = cells.rows
        if self._thread is None and self.store is not None:
            self._start()
        return cells.rows

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
        self._local = threading.local()
        self._threads, self._retired, self._unsent = [], _Cells(None), {}
        self._samples_lock, self._samples = threading.Lock(), {}
        self._thread = None
        self._stop = threading.Event()

    def _prometheus_rows(self) -> Iterator[tuple[_Key, PathStats, float]]:
        with self._lock:
            rows = [item for _, copied in self._copy_rows() for item in copied.items()]
        stats = merge_all(_stats(key, row) for key, row in rows if _count(row))
        seconds: dict[_Key, float] = {}
        for (feature, path, _), row in rows:
            key = (str(feature), str(path))
            seconds[key] = seconds.get(key, 0.0) + row[_SECONDS]
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


def _stats(key: _Row, row: list[float]) -> PathStats:
    # str() turns a StrEnum path/outcome into its plain value before it is stored.
    feature, path, outcome = key
    latency = {index: int(n) for index, n in enumerate(row[:_SECONDS]) if n}
    return PathStats(str(feature), str(path), {str(outcome): _count(row)}, latency)


def _count(row: list[float]) -> int:
    return int(sum(row[:_SECONDS]))


def _minus(a: list[float], b: list[float]) -> list[float]:
    return [n - m for n, m in zip(a, b, strict=True)]


def _plus(a: list[float], b: list[float]) -> list[float]:
    return [n + m for n, m in zip(a, b, strict=True)]


def _fold(into: dict[_Row, list[float]], rows: dict[_Row, list[float]]) -> None:
    for key, row in list(rows.items()):
        current = into.get(key)
        into[key] = row[:] if current is None else _plus(current, row)


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
