"""Metrics: in-memory aggregation, batched flushes to the store, Prometheus export."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shims.metrics import SAMPLE_FEATURES, Metrics
from shims.stats import PathStats
from shims.stores import MISMATCH_SAMPLES, MismatchSample, open_store
from shims.stores.memory import MemoryStore


class FlakyStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.samples_down = False  # only the mismatch samples fail to arrive
        self.flushes = 0

    def add_metrics(self, batch: Iterable[PathStats]) -> None:
        if self.down:
            raise ConnectionError("down")
        self.flushes += 1
        super().add_metrics(batch)

    def add_mismatches(self, samples: Iterable[MismatchSample]) -> None:
        if self.down or self.samples_down:
            raise ConnectionError("down")
        super().add_mismatches(samples)


def test_records_are_aggregated_per_feature_and_path() -> None:
    metrics = Metrics(None)
    for _ in range(3):
        metrics.record("f", "monolith", "ok", 0.002)
    metrics.record("f", "monolith", "error", 0.5)
    metrics.record("f", "function", "fallback", 0.010)
    snap = metrics.snapshot()
    mono = snap[("f", "monolith")]
    assert (mono.calls, mono.errors) == (4, 1)
    assert snap[("f", "function")].fallbacks == 1
    p50 = mono.percentile(0.5)
    assert p50 is not None
    assert 0.0015 < p50 < 0.0026


def test_nothing_reaches_the_store_until_a_flush() -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=3600)
    metrics.record("f", "monolith", "ok", 0.001)
    assert store.read_metrics() == {}
    assert metrics.flush() is True
    assert store.read_metrics()[("f", "monolith")].calls == 1
    metrics.close()


def test_flushes_send_deltas_not_totals() -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=3600)
    metrics.record("f", "monolith", "ok", 0.001)
    metrics.flush()
    metrics.record("f", "monolith", "ok", 0.001)
    metrics.flush()
    metrics.flush()  # nothing new: nothing sent
    assert store.read_metrics()[("f", "monolith")].calls == 2
    assert store.flushes == 2
    assert metrics.snapshot()[("f", "monolith")].calls == 2
    metrics.close()


def test_a_failed_flush_is_retried_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=3600)
    store.down = True
    metrics.record("f", "monolith", "ok", 0.001)
    assert metrics.flush() is False
    metrics.record("f", "monolith", "error", 0.001)
    assert metrics.flush() is False
    store.down = False
    assert metrics.flush() is True
    stats = store.read_metrics()[("f", "monolith")]
    assert (stats.calls, stats.errors) == (2, 1)
    assert caplog.text.count("metrics flush") == 1
    metrics.close()


def mismatch(n: int, feature: str = "f") -> MismatchSample:
    at = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=n)
    return MismatchSample(feature, f"ev-{n}", at, "result", "1", "2", "web:1")


def test_mismatch_samples_reach_the_store_with_the_flush_not_before() -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=3600)
    metrics.add_mismatch(mismatch(1))
    metrics.add_mismatch(mismatch(2))
    assert store.read_mismatches("f") == []
    assert metrics.flush() is True
    assert [m.event_id for m in store.read_mismatches("f")] == ["ev-2", "ev-1"]
    assert metrics.flush() is True  # sent once, not again
    assert len(store.read_mismatches("f")) == 2
    metrics.close()


def test_mismatch_samples_wait_out_an_outage_in_a_bounded_buffer() -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=3600)
    store.down = True
    for n in range(MISMATCH_SAMPLES - 5):
        metrics.add_mismatch(mismatch(n))
    assert metrics.flush() is False
    for n in range(MISMATCH_SAMPLES - 5, MISMATCH_SAMPLES + 10):  # 60 in all
        metrics.add_mismatch(mismatch(n))
    metrics.add_mismatch(mismatch(0, "other"))
    assert metrics.flush() is False
    assert metrics.samples_dropped == 10  # the oldest ten of f
    store.down = False
    assert metrics.flush() is True
    kept = store.read_mismatches("f", limit=1000)
    assert [m.event_id for m in kept] == [f"ev-{n}" for n in reversed(range(10, 60))]
    assert len(store.read_mismatches("other")) == 1
    metrics.close()


def test_counters_are_not_sent_twice_when_only_the_samples_failed() -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=3600)
    store.samples_down = True
    metrics.record("f", "shadow", "mismatch", 0.001)
    metrics.add_mismatch(mismatch(1))
    assert metrics.flush() is False
    store.samples_down = False
    metrics.add_mismatch(mismatch(2))
    assert metrics.flush() is True
    assert store.read_metrics()[("f", "shadow")].calls == 1
    assert [m.event_id for m in store.read_mismatches("f")] == ["ev-2", "ev-1"]
    metrics.close()


def test_mismatch_samples_of_too_many_features_are_dropped_and_counted() -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=3600)
    for n in range(SAMPLE_FEATURES + 3):
        metrics.add_mismatch(mismatch(n, f"f{n}"))
    assert metrics.samples_dropped == 3
    assert metrics.flush() is True
    assert store.read_mismatches(f"f{SAMPLE_FEATURES - 1}") != []
    assert store.read_mismatches(f"f{SAMPLE_FEATURES}") == []
    metrics.close()


def test_without_a_store_mismatch_samples_are_not_kept() -> None:
    metrics = Metrics(None)
    metrics.add_mismatch(mismatch(1))
    assert metrics.flush() is True
    assert metrics.samples_dropped == 0


def test_the_background_flush_sends_mismatch_samples() -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=0.05)
    metrics.add_mismatch(mismatch(1))  # starts the flusher: no record() came first
    deadline = time.monotonic() + 5
    while not store.read_mismatches("f") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [m.event_id for m in store.read_mismatches("f")] == ["ev-1"]
    metrics.close()


def test_background_thread_flushes_on_its_interval() -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=0.05)
    metrics.record("f", "function", "ok", 0.001)
    deadline = time.monotonic() + 5
    while not store.read_metrics() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.read_metrics()[("f", "function")].calls == 1
    metrics.close()


def test_concurrent_records_are_all_counted() -> None:
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=0.01)

    def hammer() -> None:
        for _ in range(5000):
            metrics.record("f", "monolith", "ok", 0.0001)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    metrics.close()
    assert store.read_metrics()[("f", "monolith")].calls == 20_000


def test_no_count_is_lost_while_threads_record_and_flushes_run() -> None:
    # record() takes no lock: each thread writes its own rows and the flusher copies
    # them. A tiny switch interval and a flusher in a tight loop make a flush land
    # between the reads and writes of every recording thread, so a design that
    # resets or swaps what a recorder is still writing loses counts here.
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=3600)
    stop = threading.Event()
    per_thread, threads_n = 20_000, 6

    def flusher() -> None:
        while not stop.is_set():
            metrics.flush()

    def hammer(n: int) -> None:
        outcome = "ok" if n % 2 else "error"
        for i in range(per_thread):
            metrics.record("f", "monolith", outcome, 0.0001 if i % 3 else 0.01)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        background = threading.Thread(target=flusher)
        background.start()
        threads = [threading.Thread(target=hammer, args=(n,)) for n in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        background.join()
    finally:
        sys.setswitchinterval(switch)
    metrics.close()
    stats = store.read_metrics()[("f", "monolith")]
    assert stats.calls == per_thread * threads_n
    assert stats.errors == per_thread * threads_n // 2
    assert sum(stats.latency.values()) == per_thread * threads_n
    assert metrics.snapshot()[("f", "monolith")].calls == per_thread * threads_n


def test_finished_threads_are_folded_without_losing_counts() -> None:
    # A server may start one thread per request: their rows must not pile up, and
    # folding them into the process's retired rows must keep every count.
    store = FlakyStore()
    metrics = Metrics(store, flush_interval=3600)
    for _ in range(50):
        t = threading.Thread(target=metrics.record, args=("f", "monolith", "ok", 0.001))
        t.start()
        t.join()
    assert metrics.flush() is True
    assert metrics._threads == []  # every recording thread has finished
    for _ in range(10):
        t = threading.Thread(target=metrics.record, args=("f", "monolith", "ok", 0.001))
        t.start()
        t.join()
    assert metrics.flush() is True
    assert store.read_metrics()[("f", "monolith")].calls == 60
    assert metrics.snapshot()[("f", "monolith")].calls == 60
    metrics.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_empty() -> None:
    metrics = Metrics(None)
    metrics.record("f", "monolith", "ok", 0.001)
    pid = os.fork()
    if pid == 0:  # the child: nothing inherited, and it records on its own
        code = 1
        try:
            empty = metrics.snapshot() == {}
            metrics.record("f", "monolith", "ok", 0.001)
            code = 0 if empty and metrics.snapshot()[("f", "monolith")].calls == 1 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert metrics.snapshot()[("f", "monolith")].calls == 1
    metrics.close()


def test_pending_metrics_are_flushed_at_interpreter_exit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/routes.db"
    script = textwrap.dedent(
        f"""
        from shims.metrics import Metrics
        from shims.stores import open_store
        metrics = Metrics(open_store({url!r}), flush_interval=3600)
        for _ in range(7):
            metrics.record("f", "monolith", "ok", 0.003)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    with open_store(url) as store:
        assert store.read_metrics()[("f", "monolith")].calls == 7


def test_prometheus_export() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    metrics = Metrics(None)
    metrics.enable_prometheus(registry)
    metrics.record("orders.confirm", "function", "ok", 0.004)
    metrics.record("orders.confirm", "function", "error", 0.2)
    metrics.flush()
    metrics.record("orders.confirm", "function", "ok", 0.004)  # pending, still exported
    value = registry.get_sample_value
    labels = {"feature": "orders.confirm", "path": "function"}
    assert value("strangler_calls_total", {**labels, "outcome": "ok"}) == 2
    assert value("strangler_calls_total", {**labels, "outcome": "error"}) == 1
    assert value("strangler_call_duration_seconds_count", labels) == 3
    assert value("strangler_call_duration_seconds_bucket", {**labels, "le": "0.01"}) == 2
    assert value("strangler_call_duration_seconds_sum", labels) == pytest.approx(0.208)
    assert b"strangler_call_duration_seconds_bucket" in generate_latest(registry)


def test_a_closed_metrics_leaves_the_registry_to_its_replacement() -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    first = Metrics(None)
    first.enable_prometheus(registry)
    with pytest.raises(ValueError, match="Duplicated"):
        Metrics(None).enable_prometheus(registry)
    first.close()
    second = Metrics(None)
    second.enable_prometheus(registry)
    second.record("f", "monolith", "ok", 0.001)
    labels = {"feature": "f", "path": "monolith", "outcome": "ok"}
    assert registry.get_sample_value("strangler_calls_total", labels) == 1
    second.close()


def test_bad_flush_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="flush_interval"):
        Metrics(None, flush_interval=0)


def test_store_url_is_masked_in_flush_warnings(caplog: pytest.LogCaptureFixture) -> None:
    store = open_store("redis://:hunter2@127.0.0.1:1/0", timeout=0.2)
    metrics = Metrics(store, flush_interval=3600)
    metrics.record("f", "monolith", "ok", 0.001)
    assert metrics.flush() is False
    assert "hunter2" not in caplog.text
    assert "redis://:****@127.0.0.1:1/0" in caplog.text
    metrics.close()
