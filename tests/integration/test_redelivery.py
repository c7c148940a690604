"""A worker killed mid-task: the message is redelivered and the event still runs (once).

RabbitMQ requeues an unacknowledged message as soon as the consumer's connection
drops (``acks_late`` + ``reject_on_worker_lost``). The dead worker's dedupe claim still
holds its lease, so the redelivery waits (retries) until the lease expires, then runs.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from shims.events import build_event
from tests.integration.conftest import start_worker, worker_settings

pytestmark = [pytest.mark.rabbitmq, pytest.mark.worker]


def test_killed_worker_leaves_the_event_to_the_next_one(rabbitmq_url: str, tmp_path: Path) -> None:
    settings = worker_settings(rabbitmq_url, "rpc://", tmp_path)
    state = "sqlite:///" + str(tmp_path / "handlers.db")
    log = f"crash-{uuid.uuid4().hex[:6]}"
    hold = tmp_path / "hold"
    hold.touch()  # the handler blocks while this file exists
    event = build_event("it.crashy", {"log": log, "hold": str(hold)})
    with start_worker(settings, tmp_path / "out", state, concurrency=1) as first:
        first.app.send_task("it.tasks.crashy", args=[event], ignore_result=True)
        assert first.wait_for_effects(log, 1, timeout=20)[0].startswith("start-")
        os.killpg(first.process.pid, signal.SIGKILL)  # no warm shutdown, no ack
        first.process.wait(timeout=10)
        queue = first.queue
    hold.unlink()
    started = time.monotonic()
    with start_worker(settings, tmp_path / "out", state, queue=queue) as second:
        lines = second.wait_for_effects(log, 3, timeout=30)
    assert len(lines) == 3, lines
    assert lines[0].startswith("start-")
    assert lines[1].startswith("start-")
    assert lines[0] != lines[1]  # a second worker process ran it
    assert lines[2] == "done"
    assert time.monotonic() - started < 30


def test_a_supervised_worker_that_died_is_started_again_and_handles_the_event(
    rabbitmq_url: str, tmp_path: Path
) -> None:
    """``Worker.ensure_running`` (what tests/reliability uses as its supervisor)."""
    settings = worker_settings(rabbitmq_url, "rpc://", tmp_path)
    state = "sqlite:///" + str(tmp_path / "handlers.db")
    log = f"revive-{uuid.uuid4().hex[:6]}"
    with start_worker(settings, tmp_path / "out", state, concurrency=1) as worker:
        assert worker.ensure_running() is False  # alive: nothing to do
        dead = worker.process
        os.killpg(dead.pid, signal.SIGKILL)
        dead.wait(timeout=10)
        event = build_event("it.record", {"log": log, "n": 1})
        worker.app.send_task("it.tasks.record", args=[event], ignore_result=True)
        assert worker.ensure_running() is True
        assert (worker.restarts, worker.process is dead) == (1, False)
        assert worker.wait_for_effects(log, 1, timeout=30) == ["1"]
