"""Handler base end to end: retries then dead letter, and replay through the CLI."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from shims.deadletter import open_dead_letters
from shims.events import build_event
from strangler.cli import main
from tests.integration.conftest import Worker

pytestmark = [pytest.mark.redis, pytest.mark.worker]


def test_max_retries_dead_letters_and_replay_runs_it_once(
    redis_worker: Worker, redis_url: str, tmp_path: Path
) -> None:
    worker = redis_worker
    flag = tmp_path / "downstream-down"
    flag.touch()
    log = f"flaky-{uuid.uuid4().hex[:6]}"
    event = build_event("it.flaky", {"log": log, "n": 1, "fail_flag": str(flag)})
    with pytest.raises(Exception, match="max retries exceeded after 3 attempt"):
        worker.app.send_task("it.tasks.flaky", args=[event]).get(timeout=20)
    assert worker.effects(log) == []

    runner = CliRunner()
    listed = runner.invoke(main, ["dlq", "list", "--format", "json", "--url", redis_url])
    assert listed.exit_code == 0, listed.output
    entry = next(e for e in json.loads(listed.output) if e["event_id"] == event["id"])
    assert entry["reason"] == "max retries exceeded"
    assert entry["attempts"] == 3
    assert entry["last_error"] == "ConnectionError: downstream unavailable"

    shown = runner.invoke(main, ["dlq", "show", str(entry["id"]), "--url", redis_url])
    assert shown.exit_code == 0
    assert json.loads(shown.output)["event"] == event

    flag.unlink()  # downstream is back
    replayed = runner.invoke(
        main,
        ["dlq", "replay", str(entry["id"]), "--url", redis_url, "--broker", redis_url,
         "--queue", worker.queue],
    )  # fmt: skip
    assert replayed.exit_code == 0, replayed.output
    assert f"replayed #{entry['id']}" in replayed.output
    assert worker.wait_for_effects(log, 1) == ["1"]
    store = open_dead_letters(redis_url)
    try:
        assert store.get(entry["id"]) is None
    finally:
        store.close()


def test_unknown_entry_is_a_usage_error(redis_url: str) -> None:
    result = CliRunner().invoke(main, ["dlq", "show", "999999", "--url", redis_url])
    assert result.exit_code == 2
    assert "no dead letter #999999" in result.output


def test_purge(redis_worker: Worker, redis_url: str) -> None:
    store = open_dead_letters(redis_url)
    try:
        store.add("it.tasks.x", {"id": "e"}, "error", 1, "boom")
        result = CliRunner().invoke(main, ["dlq", "purge", "--yes", "--url", redis_url])
        assert result.exit_code == 0
        assert store.list() == []
    finally:
        store.close()
