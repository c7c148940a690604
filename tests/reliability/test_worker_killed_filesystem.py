"""Case 2b: a worker SIGKILLed mid-task on the embedded filesystem broker loses nothing.

The event goes through the shim (``@routed``, fire-and-forget, route at ``function``)
into the filesystem transport the embedded default uses, to a real worker whose handler
blocks before its effect. The worker's process group is SIGKILLed (no warm shutdown, no
ack, no restore) and a new worker is started on the same folders and queue: every
event the shim accepted must be handled, its effect applied once.

kombu's own filesystem transport deletes a message file the moment a worker takes it
and keeps the unacknowledged message only in the worker's memory (restored on a clean
shutdown only), so there this test loses every event in flight. ``shims.fsbroker``
moves the file to an in-flight folder owned by the worker instead, and the next worker
puts the dead owner's files back in the queue.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shims.dispatch import publisher, routed
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime
from tests.reliability import effects
from tests.reliability.conftest import rel_worker, worker_settings
from tests.reliability.report import Report
from tests.reliability.test_worker_killed import wait_started

pytestmark = [pytest.mark.worker]

IN_FLIGHT = 2  # the worker's concurrency: every one of them held mid-task
QUEUED = 3  # behind them, taken by nobody yet
FEATURE = "rel.fs.apply"


@routed(FEATURE, task="rel.apply")
def apply(n: int, hold: str) -> None:
    raise AssertionError("the monolith body must not run on the function path")


@pytest.fixture
def shim() -> Iterator[None]:
    configure(route_store_url="memory://", route_ttl=0)
    get_runtime().store.set(Route(FEATURE, Mode.FUNCTION), actor="test")
    yield
    publisher.use_app(None)
    reset_runtime()


def test_sigkilled_filesystem_worker_loses_no_event(
    tmp_path: Path, shim: None, report: Report
) -> None:
    settings = worker_settings("filesystem://", f"file://{tmp_path}/results", tmp_path)
    db = tmp_path / "effects.db"
    hold = tmp_path / "hold"
    hold.touch()  # every delivery blocks before its effect
    with rel_worker(settings, tmp_path, concurrency=IN_FLIGHT) as first:
        queue = first.queue
        publisher.use_app(first.app)
        for n in range(IN_FLIGHT + QUEUED):
            assert apply(n, str(hold)) is None  # accepted by the shim
        in_flight = wait_started(db, IN_FLIGHT, timeout=10)
        os.killpg(first.process.pid, signal.SIGKILL)  # no warm shutdown, no ack, no restore
        first.process.wait(timeout=10)
    publisher.use_app(None)
    hold.unlink()
    killed_at = time.monotonic()
    with rel_worker(settings, tmp_path, concurrency=IN_FLIGHT, queue=queue):
        # the queued ones start only in this worker: wait for every event by count
        seen = wait_for_count(db, IN_FLIGHT + QUEUED, timeout=10)
        recovered_after = time.monotonic() - killed_at
    lost = IN_FLIGHT + QUEUED - len(seen)
    starts: dict[str, list[object]] = {}
    for eid, pid, _ in effects.rows(db, "starts"):
        starts.setdefault(str(eid), []).append(pid)
    report.add(
        "2b. worker SIGKILLed mid-task (filesystem)",
        "every event handled; effect once",
        events=IN_FLIGHT + QUEUED, in_flight_at_kill=len(in_flight), handled=len(seen),
        lost=lost, doubled=sum(1 for c in seen.values() if c != 1),
        recovered_s=round(recovered_after, 1), broker="filesystem",
    )  # fmt: skip
    assert len(in_flight) == IN_FLIGHT
    assert in_flight <= seen.keys(), f"lost in flight: {sorted(in_flight - seen.keys())}"
    assert lost == 0, f"{lost} of {IN_FLIGHT + QUEUED} events lost"
    assert all(count == 1 for count in seen.values()), seen
    # the in-flight ones really started in the killed worker and ran again in the new one
    assert all(len(set(starts[eid])) == 2 for eid in in_flight), starts


def wait_for_count(db: Path, count: int, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    seen = effects.counts(db)
    while len(seen) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = effects.counts(db)
    return seen
