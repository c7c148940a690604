"""Case 1: the broker (a Redis server this test owns) is SIGKILLed mid-traffic and restarted.

Two entry points at ``function`` share the outage:

* fire-and-forget **with the outbox**: each call runs in its own transaction (every
  tenth rolled back); the relay thread publishes pending rows, keeps failed ones, and
  publishes again the sent rows the handler side has not confirmed after
  ``REDELIVERY.after`` seconds (the default, 30). Afterwards the set of handled event
  ids must equal the set of committed outbox rows, exactly, each effect applied once,
  and every row must be confirmed (``handled``), none dead-lettered.
* **request/reply with fallback**: every call must return the right sum; calls made
  while the broker is down are answered by the monolith body (the fallback).

The broker runs with the append-only file fsynced on every write, as a production
broker would: a broker that forgets accepted messages on restart cannot be made
lossless from the client side (see docs/reliability.md).

Kombu's Redis transport pops a message with ``BRPOP`` and records it as unacknowledged
in a second round trip: a broker killed between the two loses a message it had
accepted (about every other run, one event). The relay's redelivery of unconfirmed rows
is what makes the outbox lossless anyway; ``redeliveries`` in the report counts it.
The worker runs supervised (restarted if it exits, as in production); the report counts
``worker_restarts``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from shims.breaker import BreakerPolicy
from shims.dispatch import breakers, publisher, routed
from shims.django.models import OutboxEvent, State
from shims.outbox import Redelivery, pending_count, run_relay, unconfirmed_count
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime
from tests.integration.conftest import Worker
from tests.reliability import effects
from tests.reliability.conftest import (
    RedisServer,
    own_redis,
    rel_worker,
    state_url,
    worker_settings,
)
from tests.reliability.report import Report

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FF_CALLS, RR_MIN_CALLS = 1500, 500
OUTAGE_AT, OUTAGE_FOR = 3.0, 4.0
# Longer than the backlog the outage leaves takes to drain, so that a republish means a
# missing confirmation rather than a queue still being worked through.
REDELIVERY = Redelivery()  # the defaults: 30 s, doubling, 5 publishes
monolith_runs = {"apply": 0}


@routed("rel.outage.apply", task="rel.apply", outbox=True)
def apply_outboxed(n: int) -> None:
    monolith_runs["apply"] += 1  # must stay 0: the outbox path never falls back


@routed("rel.outage.sum", task="rel.sum", style="request_reply", timeout=2.0)
def add(a: int, b: int) -> dict[str, Any]:
    return {"sum": a + b, "by": "monolith"}


@dataclass
class Calls:
    """What the callers saw: (start, end, answered by) per request/reply call, errors."""

    replies: list[tuple[float, float, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ff: int = 0
    locked: int = 0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    with own_redis(tmp_path / "redis", persistent=True) as server:
        yield server


@pytest.fixture
def worker(broker: RedisServer, tmp_path: Path) -> Iterator[Worker]:
    url = f"{broker.url}/0"
    with rel_worker(worker_settings(url, url, tmp_path), tmp_path, visibility=5) as running:
        configure(route_store_url="memory://", route_ttl=0)
        for feature in ("rel.outage.apply", "rel.outage.sum"):
            get_runtime().store.set(Route(feature, Mode.FUNCTION), actor="test")
        publisher.use_app(running.app)
        breakers.clear(BreakerPolicy(cooldown=1.0))
        try:
            yield running
        finally:
            publisher.use_app(None)
            breakers.clear(BreakerPolicy())
            reset_runtime()


def produce_ff(calls: Calls, stop: threading.Event) -> None:
    try:
        for n in range(FF_CALLS):
            if stop.is_set():
                return
            try:
                calls.locked += in_transaction(n)
                calls.ff += 1
            except Exception as exc:  # counted: a call must never raise
                calls.errors.append(f"ff: {type(exc).__name__}: {exc}")
            time.sleep(0.004)
    finally:
        connection.close()


def in_transaction(n: int) -> int:
    """One business transaction calling the entry point; returns how often it was retried.

    The test database is SQLite in shared-cache memory, whose table locks fail at once
    instead of waiting (no busy timeout), so a transaction that meets the relay's
    UPDATE is retried like ``shims.outbox`` retries its own statements. This is the test
    database's behaviour, not the shim's: the outbox row is written by the caller's
    own transaction, and on PostgreSQL the writer would simply wait.
    """
    for attempt in range(50):
        try:
            with transaction.atomic():
                apply_outboxed(n)
                if n % 10 == 0:
                    transaction.set_rollback(True)
            return attempt
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.005 * (attempt + 1))
    raise AssertionError(f"transaction {n} stayed locked")


def produce_rr(calls: Calls, outage_over: threading.Event, stop: threading.Event) -> None:
    """Until enough calls were made *and* the function answered again after the outage."""
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline and not stop.is_set():
        start = time.monotonic()
        try:
            reply = add(n, 1)
            if reply["sum"] != n + 1:
                calls.errors.append(f"rr: wrong answer {reply} for {n}")
            calls.replies.append((start, time.monotonic(), str(reply["by"])))
        except Exception as exc:
            calls.errors.append(f"rr: {type(exc).__name__}: {exc}")
        n += 1
        recovered = outage_over.is_set() and any(
            by == "function" and s > outage_over_at[0] for s, _, by in calls.replies[-20:]
        )
        if n >= RR_MIN_CALLS and recovered:
            return
        time.sleep(0.01)


outage_over_at = [float("inf")]


def test_broker_outage_loses_no_committed_event_and_no_call_raises(
    broker: RedisServer,
    worker: Worker,
    tmp_path: Path,
    report: Report,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The relay reads confirmations (and writes dead letters) where the worker's
    # handlers keep their state, as a deployment configures both sides alike.
    monkeypatch.setenv("STRANGLER_DEDUPE_URL", state_url(tmp_path))
    monkeypatch.setenv("STRANGLER_DLQ_URL", state_url(tmp_path))
    calls, stop, stop_relay, outage_over = (
        Calls(),
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )
    relay = threading.Thread(target=relay_loop, args=(stop_relay,), daemon=True)
    supervisor = threading.Thread(target=supervise, args=(worker, stop_relay), daemon=True)
    producers = [
        threading.Thread(target=produce_ff, args=(calls, stop), daemon=True),
        threading.Thread(target=produce_rr, args=(calls, outage_over, stop), daemon=True),
    ]
    for thread in [relay, supervisor, *producers]:
        thread.start()
    try:
        time.sleep(OUTAGE_AT)
        broker.kill()
        down_at = time.monotonic()
        time.sleep(OUTAGE_FOR)
        broker.start()
        up_at = time.monotonic()
        outage_over_at[0] = up_at
        outage_over.set()
        for thread in producers:
            thread.join(timeout=90)
        assert not any(t.is_alive() for t in producers), "producers did not finish in time"
        drained = wait_drained(timeout=60)
        confirmed = wait_confirmed(timeout=150)
    finally:
        stop.set()
        stop_relay.set()
        relay.join(timeout=30)
        supervisor.join(timeout=5)
    committed = set(OutboxEvent.objects.values_list("event_id", flat=True))
    seen = effects.wait_for(tmp_path / "effects.db", committed, timeout=30)
    handled = {k: v for k, v in seen.items() if k in committed}

    back = [s - up_at for s, _, by in calls.replies if s > up_at and by == "function"]
    lost = committed - handled.keys()
    states = dict(Counter(OutboxEvent.objects.values_list("state", flat=True)))
    publishes = list(OutboxEvent.objects.values_list("publish_count", flat=True))
    assert calls.errors == []
    assert drained, f"{pending_count()} outbox rows still pending"
    assert lost == set(), f"{len(lost)} committed event(s) lost: {sorted(lost)[:3]}"
    assert confirmed, f"{unconfirmed_count()} outbox rows never confirmed: {states}"
    assert states == {State.HANDLED: len(committed)}  # none dead-lettered
    assert len(committed) == FF_CALLS - FF_CALLS // 10
    assert set(seen) <= committed  # nothing handled that was rolled back
    assert all(v == 1 for v in handled.values())
    assert monolith_runs["apply"] == 0

    during = [by for s, e, by in calls.replies if s >= down_at + 0.1 and e <= up_at]
    after = [by for s, _, by in calls.replies if s > up_at]
    assert during
    assert set(during) == {"monolith"}
    assert "function" in after  # and the function answers again once the broker is back
    total = calls.ff + len(calls.replies)
    assert total >= 2000
    assert back, "the function never answered again after the outage"
    metrics = get_runtime().metrics.snapshot()
    rr = metrics[("rel.outage.sum", "function")].outcomes
    report.add(
        "1. broker outage (Redis SIGKILLed, restarted)",
        "every committed event handled once and confirmed; no call raises; "
        "fallback answers during outage",
        calls=total, ff_outbox_calls=calls.ff, committed=len(committed), handled=len(handled),
        lost=len(lost), doubled=sum(1 for v in handled.values() if v > 1),
        confirmed=states.get(State.HANDLED, 0), redeliver_after_s=REDELIVERY.after,
        redeliveries=sum(publishes) - len(publishes),
        redelivered_events=sum(1 for count in publishes if count > 1),
        rr_calls=len(calls.replies), rr_fallback=rr.get("fallback", 0), rr_function=rr.get("ok", 0),
        rr_during_outage=len(during), raised=len(calls.errors), sqlite_lock_retries=calls.locked,
        outage_s=round(up_at - down_at, 1),
        max_rr_call_s=round(max(e - s for s, e, _ in calls.replies), 2),
        function_back_after_s=round(back[0], 1), worker_restarts=worker.restarts,
    )  # fmt: skip


def supervise(worker: Worker, stop: threading.Event) -> None:
    """Restart the worker if it dies, as systemd or Kubernetes would in production.

    Kombu's Redis transport can crash the worker outright when the broker goes away at
    an unlucky moment (``Unrecoverable error: AttributeError: 'NoneType' object has no
    attribute 'hostname'`` in ``_connparams``, seen under heavy load; a known class of
    kombu bugs). Messages it had taken come back after the visibility timeout and the
    relay republishes unconfirmed rows, so nothing is lost once a worker runs again; the
    report counts the restarts (``worker_restarts``) so a crash is never hidden.
    """
    while not stop.wait(0.5):
        worker.ensure_running()


def relay_loop(stop: threading.Event) -> None:
    try:
        run_relay(batch=100, interval=0.2, stop=stop, redelivery=REDELIVERY)
    finally:
        connection.close()


def wait_confirmed(timeout: float) -> bool:
    """Until the handler side confirmed every sent row (the relay republishes meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if unconfirmed_count() == 0 and pending_count() == 0:
            return True
        time.sleep(0.5)
    return False


def wait_drained(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pending_count() == 0:
            return True
        time.sleep(0.2)
    return False
