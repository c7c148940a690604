"""A handler whose dedupe store is unavailable requeues the event: nothing is acked away.

Real worker on Redis; the dedupe store is a SQLite file under a path blocked by a plain
file (so the store cannot be opened, even as root). While blocked, the event must not
run (no claim, no effect) and must not be lost; once the path is free, the redelivered
event runs exactly once.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from shims.events import build_event
from tests.integration.conftest import start_worker, worker_settings

pytestmark = [pytest.mark.redis, pytest.mark.worker]


def test_dedupe_store_down_requeues_then_runs_once(redis_url: str, tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the store's folder should be")
    dedupe = f"sqlite:///{blocker}/handlers.db"
    settings = worker_settings(redis_url, redis_url, tmp_path)
    out = tmp_path / "out"
    env = {"STRANGLER_DEDUPE_URL": dedupe}
    with start_worker(settings, out, redis_url, concurrency=1, extra_env=env) as worker:
        log = f"outage-{uuid.uuid4().hex[:6]}"
        worker.app.send_task("it.tasks.record", args=[build_event("it.rec", {"log": log, "n": 4})])
        time.sleep(2.0)  # several deliveries fail to reach the store meanwhile
        assert worker.effects(log) == []
        blocker.unlink()  # the store is back
        assert worker.wait_for_effects(log, 1, timeout=30) == ["4"]
        time.sleep(1.0)
        assert worker.effects(log) == ["4"]
        assert "dedupe store unavailable" in worker.log.read_text()
