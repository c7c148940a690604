"""Case 6: threads and processes call through the shim for 30 s while the route changes
every second across all modes; then every call is accounted for in the store's metrics.

Callers: two threads in this process and two processes of two threads each
(``tests.reliability.callers load``), random routing keys, request/reply with fallback,
answers checked. A toggler sets the next mode every second through the shared Redis
route store (``monolith``, ``shadow``, ``canary`` at several percents, ``function``).
At the end each process flushes its metrics; the store's totals must equal what the
callers counted: every call once, monolith-body runs = monolith ``ok`` + function
``fallback``, and no error on any path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shims.dispatch import breakers, mismatches, publisher, shadow_pool
from shims.routing import Mode, Route
from shims.runtime import configure, reset_runtime
from shims.stores import open_store
from tests.integration.conftest import Worker, flush_redis
from tests.reliability import entries
from tests.reliability.callers import run_load
from tests.reliability.conftest import RELIABILITY_DB, rel_worker, worker_settings
from tests.reliability.report import Report

pytestmark = [pytest.mark.redis, pytest.mark.worker, pytest.mark.slow]

SECONDS = 30.0
PROCESSES, THREADS = 2, 2
ROOT = Path(__file__).resolve().parents[2]
CYCLE = [
    Route("rel.load", Mode.MONOLITH),
    Route("rel.load", Mode.SHADOW),
    Route("rel.load", Mode.CANARY, 10),
    Route("rel.load", Mode.CANARY, 50),
    Route("rel.load", Mode.FUNCTION),
    Route("rel.load", Mode.CANARY, 90),
    Route("rel.load", Mode.SHADOW),
    Route("rel.load", Mode.FUNCTION),
]


@pytest.fixture
def worker(redis_server: str, tmp_path: Path) -> Iterator[Worker]:
    url = f"{redis_server}/{RELIABILITY_DB}"
    flush_redis(url)
    with rel_worker(worker_settings(url, url, tmp_path), tmp_path) as running:
        yield running


def toggle(store_url: str, stop: threading.Event, changes: list[str]) -> None:
    store = open_store(store_url, timeout=5.0)
    try:
        i = 0
        while not stop.wait(1.0) and i < 2 * SECONDS:
            route = CYCLE[i % len(CYCLE)]
            store.set(route, actor="reliability-toggler")
            changes.append(f"{route.mode}:{route.percent}")
            i += 1
    finally:
        store.close()


def test_load_with_a_route_toggled_every_second(
    worker: Worker, redis_server: str, report: Report
) -> None:
    store_url = f"{redis_server}/{RELIABILITY_DB}?prefix=rel-{uuid.uuid4().hex[:8]}:"
    broker = worker.env["STRANGLER_BROKER_URL"]
    configure(route_store_url=store_url, route_ttl=0.5, metrics_flush_interval=1.0)
    publisher.use_app(worker.app)
    breakers.clear()
    mismatches.clear()
    runs_before = entries.body_runs["load"]
    command = [sys.executable, "-m", "tests.reliability.callers", "load", store_url, broker,
               worker.queue, str(SECONDS), str(THREADS)]  # fmt: skip
    stop, changes = threading.Event(), []
    toggler = threading.Thread(target=toggle, args=(store_url, stop, changes))
    toggler.start()
    procs = [
        subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    try:
        local = run_load(SECONDS, THREADS)
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        stop.set()
        toggler.join(timeout=10)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    tallies = [local | {"body_runs": entries.body_runs["load"] - runs_before}]
    tallies += [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    shadow_pool.join(timeout=30)
    publisher.use_app(None)
    reset_runtime()  # flush this process's metrics too

    store = open_store(store_url, timeout=5.0)
    try:
        metrics = store.read_metrics()
    finally:
        store.close()
    calls = sum(t["calls"] for t in tallies)
    body_runs = sum(t["body_runs"] for t in tallies)
    mono = metrics.get(("rel.load", "monolith"))
    func = metrics.get(("rel.load", "function"))
    shadow = metrics.get(("rel.load", "shadow"))
    assert mono is not None, metrics
    assert func is not None, metrics
    assert shadow is not None, metrics
    errors = [e for t in tallies for e in t["errors"]]
    assert errors == []
    assert sum(t["error_count"] for t in tallies) == 0
    assert sum(t["wrong"] for t in tallies) == 0
    assert all(t["threads_finished"] == THREADS for t in tallies)
    assert len(changes) >= SECONDS - 2
    assert set(mono.outcomes) == {"ok"}  # no monolith error
    assert set(func.outcomes) <= {"ok", "fallback"}  # every function failure was answered
    assert mono.outcomes["ok"] + func.outcomes.get("fallback", 0) == body_runs
    assert mono.outcomes["ok"] + sum(func.outcomes.values()) == calls
    assert "mismatch" not in shadow.outcomes
    assert mismatches.list() == []
    report.add(
        "6. load, route toggled every second",
        "0 errors; every call answered; store metrics = callers' counts",
        seconds=SECONDS, processes=PROCESSES + 1, threads=THREADS * (PROCESSES + 1),
        calls=calls, calls_per_s=round(calls / SECONDS), route_changes=len(changes),
        monolith_ok=mono.outcomes["ok"], function_ok=func.outcomes.get("ok", 0),
        function_fallback=func.outcomes.get("fallback", 0),
        shadow=dict(sorted(shadow.outcomes.items())), errors=len(errors), wrong_answers=0,
        metrics_total=mono.outcomes["ok"] + sum(func.outcomes.values()),
    )  # fmt: skip
