"""Case 2: a worker SIGKILLed mid-task; every event is handled, its effect applied once.

On RabbitMQ: an unacknowledged message is requeued as soon as the dead worker's
connection drops (``acks_late`` + ``reject_on_worker_lost``); the dead worker's dedupe
claims expire after their lease (3 s here) and the next worker runs those events.
The kill lands while deliveries are *held* before their effect, so which events were
in flight is known exactly; see docs/reliability.md for the window this cannot cover.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from shims.events import build_event
from tests.reliability import effects
from tests.reliability.conftest import rel_worker, worker_settings
from tests.reliability.report import Report

pytestmark = [pytest.mark.rabbitmq, pytest.mark.worker]

BEFORE, HELD = 150, 50


def test_sigkilled_worker_loses_no_event_and_doubles_no_effect(
    rabbitmq_url: str, tmp_path: Path, report: Report
) -> None:
    settings = worker_settings(rabbitmq_url, "rpc://", tmp_path)
    db = tmp_path / "effects.db"
    hold = tmp_path / "hold"
    first_batch = [build_event("rel.apply", {"n": n}) for n in range(BEFORE)]
    held_batch = [build_event("rel.apply", {"n": n, "hold": str(hold)}) for n in range(HELD)]
    with rel_worker(settings, tmp_path, concurrency=4) as first:
        queue = first.queue
        for event in first_batch:
            first.app.send_task("rel.apply", args=[event], ignore_result=True)
        done = effects.wait_for(db, {e["id"] for e in first_batch}, timeout=60)
        assert len(done) == BEFORE
        hold.touch()  # the next deliveries block before their effect
        for event in held_batch:
            first.app.send_task("rel.apply", args=[event], ignore_result=True)
        in_flight = wait_started(db, 4, timeout=30)
        os.killpg(first.process.pid, signal.SIGKILL)  # no warm shutdown, no ack
        first.process.wait(timeout=10)
    hold.unlink()
    killed_at = time.monotonic()
    with rel_worker(settings, tmp_path, concurrency=4, queue=queue) as second:
        ids = {e["id"] for e in first_batch + held_batch}
        seen = effects.wait_for(db, ids, timeout=60)
        recovered_after = time.monotonic() - killed_at
        for _ in range(4):  # let any straggling redelivery run before counting
            assert second.app.send_task("it.ping").get(timeout=30) == "pong"
    seen = effects.counts(db)
    assert seen.keys() == ids, f"missing {len(ids - seen.keys())}"
    doubled = {k: v for k, v in seen.items() if v != 1}
    assert doubled == {}
    pids: dict[str, set[object]] = {}
    for eid, pid, _ in effects.rows(db, "starts"):
        pids.setdefault(str(eid), set()).add(pid)
    # the in-flight ones really started in the killed worker and ran again in the new one
    assert all(len(pids[eid]) == 2 for eid in in_flight), {e: pids[e] for e in in_flight}
    report.add(
        "2. worker SIGKILLed mid-task",
        "every event handled; effect once",
        events=len(ids), in_flight_at_kill=len(in_flight), handled=len(seen),
        doubled=len(doubled), recovered_s=round(recovered_after, 1), broker="RabbitMQ",
    )  # fmt: skip


def wait_started(db: Path, count: int, timeout: float) -> set[str]:
    deadline = time.monotonic() + timeout
    started: set[str] = set()
    while time.monotonic() < deadline:
        started = {str(row[0]) for row in effects.rows(db, "starts")}
        if len(started) >= count:
            time.sleep(0.3)  # let the rest of the pool pick theirs up too
            return {str(row[0]) for row in effects.rows(db, "starts")}
        time.sleep(0.05)
    raise AssertionError(f"only {len(started)} deliveries started in {timeout}s")
