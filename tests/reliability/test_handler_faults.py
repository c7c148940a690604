"""Duplicates, a poison event and malformed events, against a real worker on Redis.

Cases 3, 4 and the event half of 7 of the reliability suite. The effect of every event
is a row in the effects table keyed by event id, so "once" is ``count == 1``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from shims.deadletter import DeadLetter, open_dead_letters
from shims.events import build_event
from strangler.cli import main
from tests.integration.conftest import Worker, flush_redis
from tests.reliability import effects
from tests.reliability.conftest import RELIABILITY_DB, rel_worker, state_url, worker_settings
from tests.reliability.report import Report

pytestmark = [pytest.mark.redis, pytest.mark.worker]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("handler-faults")


@pytest.fixture(scope="module")
def worker(redis_server: str, folder: Path) -> Iterator[Worker]:
    url = f"{redis_server}/{RELIABILITY_DB}"
    flush_redis(url)
    with rel_worker(worker_settings(url, url, folder), folder) as running:
        yield running


def dead_letters(folder: Path) -> list[DeadLetter]:
    store = open_dead_letters(state_url(folder))
    try:
        return store.list(limit=10_000)
    finally:
        store.close()


def wait_dead(folder: Path, ids: set[str], timeout: float = 30.0) -> dict[str, DeadLetter]:
    deadline = time.monotonic() + timeout
    found: dict[str, DeadLetter] = {}
    while time.monotonic() < deadline:
        found = {d.event_id: d for d in dead_letters(folder) if d.event_id in ids}
        if found.keys() >= ids:
            break
        time.sleep(0.1)
    return found


def test_duplicate_deliveries_apply_the_effect_once(
    worker: Worker, folder: Path, report: Report
) -> None:
    db = folder / "effects.db"
    events = [build_event("rel.apply", {"n": n}) for n in range(300)]
    sent = 0
    for copy in range(3):  # three deliveries of each event, interleaved with the others
        for event in events:
            worker.app.send_task("rel.apply", args=[event], ignore_result=True)
            sent += 1
    ids = {e["id"] for e in events}
    seen = effects.wait_for(db, ids, timeout=90)
    late = events[:100]  # and again once every event is known to be done
    for event in late:
        worker.app.send_task("rel.apply", args=[event], ignore_result=True)
        sent += 1
    ping_until_drained(worker)
    seen = {k: v for k, v in effects.counts(db).items() if k in ids}
    assert seen.keys() == ids
    doubled = {k: v for k, v in seen.items() if v != 1}
    assert doubled == {}
    report.add(
        "3. duplicate deliveries",
        "effect once per event id",
        events=len(events), deliveries=sent, effects=sum(seen.values()), doubled=len(doubled),
    )  # fmt: skip


def ping_until_drained(worker: Worker) -> None:
    """A ping queued behind the duplicates answers only after they were consumed."""
    for _ in range(4):  # concurrency 4: one ping per pool thread, in order
        assert worker.app.send_task("it.ping").get(timeout=60) == "pong"


def test_poison_event_is_dead_lettered_after_retries_then_replayed(
    worker: Worker, folder: Path, report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = folder / "effects.db"
    broken = tmp_path / "broken"
    broken.touch()
    event = build_event("rel.poison", {"n": 1, "broken": str(broken)})
    started = time.monotonic()
    worker.app.send_task("rel.poison", args=[event], ignore_result=True)
    dead = wait_dead(folder, {event["id"]})
    assert event["id"] in dead, worker.log_tail()
    entry = dead[event["id"]]
    attempts = [at for eid, at in effects.rows(db, "attempts") if eid == event["id"]]
    assert entry.reason == "max retries exceeded"
    assert entry.attempts == 4 == len(attempts)  # the first run and max_retries=3 retries
    assert "ConnectionError" in entry.last_error
    gaps = [float(b) - float(a) for a, b in itertools.pairwise(attempts)]
    # Full jitter: each wait is uniform in [0, min(0.8, 0.2 * 2**i)]; the bound is the sum.
    assert sum(gaps) <= 0.2 + 0.4 + 0.8 + 3.0
    assert event["id"] not in effects.counts(db)

    broken.unlink()  # the fix
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main,
        ["dlq", "replay", str(entry.id), "--url", state_url(folder),
         "--broker", worker.env["STRANGLER_BROKER_URL"], "--queue", worker.queue],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"replayed #{entry.id}" in result.output
    seen = effects.wait_for(db, {event["id"]}, timeout=30)
    assert seen.get(event["id"]) == 1
    assert all(d.event_id != event["id"] for d in dead_letters(folder))
    report.add(
        "4. poison event",
        "dead-lettered after max retries with backoff; replay handles it",
        attempts=len(attempts), backoff_gaps_s=[round(g, 3) for g in gaps],
        dead_letter_after_s=round(time.monotonic() - started, 2), replayed_effects=1,
    )  # fmt: skip


def malformed_events(tmp_path: Path) -> dict[str, Any]:
    """One event per kind of bad input; each has its own id so its fate can be found."""
    missing = build_event("rel.apply", {"n": 1})
    del missing["specversion"], missing["source"]
    wrong = build_event("rel.apply", {"n": "one"})
    oversize = build_event("rel.apply", {"n": 2, "hold": "x" * (80 * 1024)})
    return {"missing attributes": missing, "schema mismatch": wrong, "oversize": oversize}


def test_malformed_events_are_dead_lettered_with_the_reason_never_run(
    worker: Worker, folder: Path, report: Report, tmp_path: Path
) -> None:
    db = folder / "effects.db"
    bad = malformed_events(tmp_path)
    for event in bad.values():
        worker.app.send_task("rel.apply", args=[event], ignore_result=True)
    ids = {e["id"] for e in bad.values()}
    dead = wait_dead(folder, ids)
    assert dead.keys() == ids, worker.log_tail()
    reasons = {kind: dead[event["id"]].reason for kind, event in bad.items()}
    assert all(r.startswith("invalid: ") for r in reasons.values()), reasons
    assert "specversion" in reasons["missing attributes"]
    assert "n" in reasons["schema mismatch"]
    assert "bytes" in reasons["oversize"] or "size" in reasons["oversize"], reasons
    ping_until_drained(worker)
    assert ids.isdisjoint(effects.counts(db))  # never executed
    assert all(eid not in ids for eid, *_ in effects.rows(db, "starts"))
    report.add(
        "7b. malformed events",
        "dead-lettered with the reason, never executed",
        events=len(bad), dead_lettered=len(dead), executed=0,
        reasons="; ".join(f"{k}: {v[:60]}" for k, v in reasons.items()).replace("|", "/"),
    )  # fmt: skip
