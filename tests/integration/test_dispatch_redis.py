"""End to end on Redis with a real worker: both styles, fallback, breaker, shadow, dedupe, DLQ."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from click.testing import CliRunner
from django.core import mail
from django.core.mail import send_mail

from shims.breaker import BreakerPolicy, BreakerState
from shims.celery import build_app, close_app
from shims.config import Settings
from shims.dispatch import FunctionPathError, breakers, mismatches, publisher, routed, shadow_pool
from shims.events import build_event
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime
from strangler.cli import main
from tests.integration.app.errors import QuoteRefused
from tests.integration.conftest import Worker

pytestmark = [pytest.mark.redis, pytest.mark.worker]

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def set_route(feature: str, mode: Mode, percent: int = 0) -> None:
    get_runtime().store.set(Route(feature, mode, percent), actor="test")


def outcomes(feature: str, path: str) -> dict[str, int]:
    stats = get_runtime().metrics.snapshot().get((feature, path))
    return {} if stats is None else dict(stats.outcomes)


@routed("it.add", task="it.tasks.add", style="request_reply", timeout=5.0)
def add(a: int, b: int, sleep: float = 0) -> dict[str, Any]:
    return {"sum": a + b, "by": "monolith"}


@routed("it.add_strict", task="it.tasks.add", style="request_reply", timeout=1.0, fallback=False)
def add_strict(a: int, b: int, sleep: float = 0) -> dict[str, Any]:
    return {"sum": a + b, "by": "monolith"}


@routed("it.record", task="it.tasks.record")
def record(log: str, n: int) -> None:
    raise AssertionError("the monolith body must not run on the function path")


@routed("it.refuse", task="it.tasks.refuse", style="request_reply", timeout=5.0)
def refuse(country: str, unknown_type: bool = False) -> None:
    raise QuoteRefused(f"no quote for {country} (monolith)")


def test_fire_and_forget_returns_at_once_and_the_handler_runs(shim: Worker) -> None:
    set_route("it.record", Mode.FUNCTION)
    log = f"ff-{uuid.uuid4().hex[:6]}"
    assert [record(log, n) for n in range(5)] == [None] * 5
    assert sorted(shim.wait_for_effects(log, 5)) == ["0", "1", "2", "3", "4"]
    assert outcomes("it.record", "function") == {"ok": 5}


def test_request_reply_returns_the_handlers_result(shim: Worker) -> None:
    set_route("it.add", Mode.FUNCTION)
    assert add(2, 3) == {"sum": 5, "by": "function"}
    assert outcomes("it.add", "function") == {"ok": 1}


def test_monolith_mode_and_unknown_features_never_publish(shim: Worker) -> None:
    assert add(1, 1) == {"sum": 2, "by": "monolith"}  # no route at all
    set_route("it.add", Mode.MONOLITH)
    assert add(1, 2) == {"sum": 3, "by": "monolith"}
    assert outcomes("it.add", "monolith") == {"ok": 2}


def test_canary_zero_and_hundred(shim: Worker) -> None:
    set_route("it.add", Mode.CANARY, 0)
    assert add(1, 1)["by"] == "monolith"
    set_route("it.add", Mode.CANARY, 100)
    assert add(1, 1)["by"] == "function"


def test_timeout_falls_back_to_the_monolith(shim: Worker) -> None:
    set_route("it.add", Mode.FUNCTION)
    entry = add.__strangler_entry__  # type: ignore[attr-defined]
    entry.timeout = 0.3
    try:
        assert add(2, 2, sleep=1.5) == {"sum": 4, "by": "monolith"}
    finally:
        entry.timeout = 5.0
    assert outcomes("it.add", "function") == {"fallback": 1}


def test_timeout_without_fallback_raises(shim: Worker) -> None:
    set_route("it.add_strict", Mode.FUNCTION)
    with pytest.raises(FunctionPathError, match="TimeoutError"):
        add_strict(1, 1, sleep=2.0)
    assert outcomes("it.add_strict", "function") == {"timeout": 1}


def test_broker_down_falls_back_fast_and_the_breaker_opens_then_recovers(
    shim: Worker, tmp_path: Any
) -> None:
    breakers.clear(BreakerPolicy(failure_threshold=2, cooldown=0.5))
    set_route("it.add", Mode.FUNCTION)
    dead = build_app(
        Settings(broker_url=DEAD_BROKER, result_backend=DEAD_BROKER),
        name="dead", task_default_queue=shim.queue,
    )  # fmt: skip
    publisher.use_app(dead)
    attempts: list[float] = []
    real_publish = publisher.publish

    def counting_publish(*args: Any, **kwargs: Any) -> Any:
        attempts.append(time.monotonic())
        return real_publish(*args, **kwargs)

    publisher.publish = counting_publish  # type: ignore[method-assign]
    try:
        for _ in range(4):
            assert add(1, 2) == {"sum": 3, "by": "monolith"}
        assert len(attempts) == 2  # the breaker opened after two failures
        assert breakers.get("it.add").state is BreakerState.OPEN
        publisher.use_app(shim.app)  # the broker is back
        time.sleep(0.6)  # cool-down: the next call is the half-open probe
        assert add(1, 2) == {"sum": 3, "by": "function"}
        assert len(attempts) == 3
        assert breakers.get("it.add").state is BreakerState.CLOSED
    finally:
        del publisher.publish
        close_app(dead)
    assert outcomes("it.add", "function") == {"fallback": 4, "ok": 1}


def test_no_worker_on_the_queue_times_out_into_fallback(shim: Worker) -> None:
    set_route("it.add", Mode.FUNCTION)
    lonely = build_app(
        Settings(broker_url=shim.app.conf.broker_url, result_backend=shim.app.conf.result_backend),
        name="lonely", task_default_queue=f"nobody-{uuid.uuid4().hex[:6]}",
    )  # fmt: skip
    publisher.use_app(lonely)
    entry = add.__strangler_entry__  # type: ignore[attr-defined]
    entry.timeout = 0.5
    try:
        assert add(3, 4) == {"sum": 7, "by": "monolith"}
    finally:
        entry.timeout = 5.0
        close_app(lonely)
    assert outcomes("it.add", "function") == {"fallback": 1}


@routed("it.record_rr", task="it.tasks.record", style="request_reply", timeout=0.5)
def record_rr(log: str, n: int) -> str:
    return "monolith"


def test_a_timed_out_request_is_discarded_not_run_later(shim: Worker) -> None:
    """The caller fell back at its deadline: the queued event must not repeat the effect."""
    set_route("it.record_rr", Mode.FUNCTION)
    busy = get_runtime().settings
    for _ in range(2):  # both worker threads busy past the caller's deadline
        event = build_event("it.slow", {"value": "x", "sleep": 2.0})
        publisher.publish(busy, "it.tasks.slow", event, ignore_result=True)
    time.sleep(0.3)
    log = f"late-{uuid.uuid4().hex[:6]}"
    assert record_rr(log, 1) == "monolith"
    assert outcomes("it.record_rr", "function") == {"fallback": 1}
    time.sleep(3.0)  # the slow events are done; the worker has reached ours
    assert shim.effects(log) == []


# ---------------------------------------------------------------- shadow


@routed("it.shadow_add", task="it.tasks.add_off_by_one", style="request_reply", timeout=5.0)
def shadow_add(a: int, b: int) -> dict[str, Any]:
    return {"sum": a + b, "by": "function"}


@routed("it.shadow_slow", task="it.tasks.slow", style="request_reply", timeout=10.0)
def shadow_slow(value: str, sleep: float) -> str:
    return value


@routed("it.shadow_fail", task="it.tasks.fail", style="request_reply", timeout=5.0)
def shadow_fail(value: int) -> int:
    return value


@routed("it.notify", task="it.tasks.notify", style="fire_and_forget", timeout=5.0)
def notify(order_id: int, to: str) -> str:
    send_mail("Order confirmed", f"order {order_id}", "shop@example.com", [to])
    return "sent"


def test_shadow_returns_the_monolith_answer_and_records_the_mismatch(shim: Worker) -> None:
    set_route("it.shadow_add", Mode.SHADOW)
    assert shadow_add(2, 3) == {"sum": 5, "by": "function"}
    assert shadow_pool.join(timeout=15)
    found = mismatches.list("it.shadow_add")
    assert len(found) == 1
    assert found[0].field == "result"
    assert '"sum": 5' in found[0].monolith
    assert '"sum": 6' in found[0].function
    assert outcomes("it.shadow_add", "shadow") == {"mismatch": 1}
    assert outcomes("it.shadow_add", "monolith") == {"ok": 1}


def test_a_shadow_mismatch_is_readable_with_the_cli_after_a_flush(
    shim: Worker, redis_url: str
) -> None:
    """Seen by this process through the real broker and worker, sent to a Redis route
    store by the metrics flush (not the request path), read back by another command."""
    url = f"{redis_url}?prefix=it-mismatches-{uuid.uuid4().hex[:8]}:"
    configure(route_store_url=url, route_ttl=0, metrics_flush_interval=3600)
    set_route("it.shadow_add", Mode.SHADOW)
    assert shadow_add(20, 22) == {"sum": 42, "by": "function"}
    assert shadow_pool.join(timeout=15)
    [seen] = mismatches.list("it.shadow_add")
    assert get_runtime().store.read_mismatches("it.shadow_add") == []  # not before a flush
    assert get_runtime().metrics.flush() is True

    table = CliRunner().invoke(main, ["route", "mismatches", "it.shadow_add", "--store", url])
    assert table.exit_code == 0, table.output
    row = next(line for line in table.stdout.splitlines() if seen.event_id[:8] in line)
    assert row.index('"sum": 42') < row.index('"sum": 43')  # monolith, then function
    status = CliRunner().invoke(main, ["route", "status", "--store", url])
    assert "it.shadow_add: 1 recent mismatches" in status.stdout
    data = json.loads(
        CliRunner()
        .invoke(main, ["route", "mismatches", "it.shadow_add", "--store", url, "--format", "json"])
        .stdout
    )
    [stored] = data["mismatches"]
    assert stored["event_id"] == seen.event_id
    assert stored["field"] == "result"
    assert (stored["monolith"], stored["function"]) == (seen.monolith, seen.function)
    assert stored["process"] == f"{socket.gethostname()}:{os.getpid()}"
    assert datetime.fromisoformat(stored["at"]) == seen.at


def test_a_matching_shadow_is_recorded_as_a_match(shim: Worker) -> None:
    set_route("it.shadow_slow", Mode.SHADOW)
    assert shadow_slow("same", 0) == "same"
    assert shadow_pool.join(timeout=15)
    assert outcomes("it.shadow_slow", "shadow") == {"match": 1}
    assert mismatches.list("it.shadow_slow") == []


def test_a_slow_or_failing_candidate_does_not_touch_the_request_path(shim: Worker) -> None:
    set_route("it.shadow_slow", Mode.SHADOW)
    set_route("it.shadow_fail", Mode.SHADOW)
    assert shadow_slow("x", 3.0) == "x"
    assert shadow_fail(7) == 7
    # Ordering, not wall-clock: both calls returned before the slow candidate (3 s in
    # the worker) answered, so its comparison has not been recorded yet.
    assert outcomes("it.shadow_slow", "shadow") == {}
    assert shadow_pool.join(timeout=20)
    assert outcomes("it.shadow_slow", "shadow") == {"match": 1}
    assert outcomes("it.shadow_fail", "shadow") == {"error": 1}


def test_a_shadowed_email_is_sent_exactly_once_by_the_monolith(shim: Worker) -> None:
    set_route("it.notify", Mode.SHADOW)
    mail.outbox = []
    assert notify(42, "ada@example.com") == "sent"
    assert shadow_pool.join(timeout=15)
    assert len(mail.outbox) == 1  # the monolith's real send, observed not prevented
    assert mail.outbox[0].to == ["ada@example.com"]
    sent_by_worker = list((shim.out / "mail").glob("*")) if (shim.out / "mail").exists() else []
    assert sent_by_worker == []  # the candidate's send was captured, not sent
    # the candidate would have sent the same mail: compared, and matched
    assert outcomes("it.notify", "shadow") == {"match": 1}


# ---------------------------------------------------------------- handler side


def test_the_same_event_delivered_twice_has_one_effect(shim: Worker) -> None:
    log = f"dup-{uuid.uuid4().hex[:6]}"
    event = build_event("it.record", {"log": log, "n": 1})
    first = shim.app.send_task("it.tasks.record", args=[event])
    second = shim.app.send_task("it.tasks.record", args=[event])
    assert first.get(timeout=10) == 1
    assert second.get(timeout=10) == 1  # the stored result, without running again
    time.sleep(0.3)
    assert shim.effects(log) == ["1"]


def test_an_invalid_event_is_dead_lettered_and_never_run(shim: Worker) -> None:
    from shims.deadletter import open_dead_letters

    log = f"bad-{uuid.uuid4().hex[:6]}"
    event = build_event("it.record", {"log": log, "n": "not-an-int"})
    with pytest.raises(Exception, match="schema: n"):
        shim.app.send_task("it.tasks.record", args=[event]).get(timeout=10)
    store = open_dead_letters(shim.env["STRANGLER_DLQ_URL"])
    try:
        entry = next(e for e in store.list() if e.event_id == event["id"])
        assert entry.reason.startswith("invalid: schema: n:")
        assert shim.effects(log) == []
    finally:
        store.close()


def test_a_request_reply_handlers_exception_is_its_answer(shim: Worker) -> None:
    """Raised again in the caller as its own type; not a fallback, not a dead letter,
    and the breaker stays closed however many times it happens."""
    from shims.deadletter import open_dead_letters

    set_route("it.refuse", Mode.FUNCTION)
    for _ in range(8):  # more than the breaker's failure threshold
        with pytest.raises(QuoteRefused, match=r"no quote for FR \(worker\)") as raised:
            refuse("FR")
    assert "raised by the extracted handler, in the worker" in (raised.value.__notes__ or [])
    assert outcomes("it.refuse", "function") == {"error": 8}
    assert breakers.get("it.refuse").state is BreakerState.CLOSED
    store = open_dead_letters(shim.env["STRANGLER_DLQ_URL"])
    try:
        assert [e for e in store.list() if e.task == "it.tasks.refuse"] == []
    finally:
        store.close()


def test_an_exception_of_a_type_this_process_never_loaded_is_a_remote_error(
    shim: Worker,
) -> None:
    """The type is not imported on a reply's say-so, and the monolith body does not run
    again: the handler already did the work."""
    import sys

    from shims.encoding import RemoteError

    set_route("it.refuse", Mode.FUNCTION)
    with pytest.raises(RemoteError, match="it_worker_only:WorkerOnlyError"):
        refuse("FR", unknown_type=True)
    assert outcomes("it.refuse", "function") == {"error": 1}
    assert breakers.get("it.refuse").state is BreakerState.CLOSED
    assert "it_worker_only" not in sys.modules


# ---------------------------------------------------------------- parity (shims.parity)


@routed("it.flaky_count", task="it.tasks.flaky_count")
def flaky_count(log: str, fail_times: int) -> str:
    return "monolith"


@routed("it.mail_then_refuse", task="it.tasks.mail_then_refuse", style="request_reply")
def mail_then_refuse(to: str) -> None:
    send_mail("Sorry", "no quote", "shop@example.com", [to])
    raise QuoteRefused(f"no quote for {to} (monolith)")


@pytest.fixture(scope="module")
def parity_worker(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker started to serve tests (``STRANGLER_PARITY_WORKER=1``), its own queue."""
    from tests.integration.conftest import start_worker, worker_settings

    out = tmp_path_factory.mktemp("parity-worker")
    settings = worker_settings(redis_url, redis_url, out)
    with start_worker(settings, out, redis_url, extra_env={"STRANGLER_PARITY_WORKER": "1"}) as w:
        yield w


@pytest.fixture
def parity_shim(parity_worker: Worker) -> Iterator[Worker]:
    from shims import parity
    from shims.runtime import configure, reset_runtime

    configure(route_store_url="memory://", route_ttl=0)
    publisher.use_app(parity_worker.app)
    breakers.clear()
    parity.enable(timeout=20)
    yield parity_worker
    parity.disable()
    parity.report.clear()
    publisher.use_app(None)
    reset_runtime()


def test_parity_retries_a_transient_error_at_once_and_returns_the_real_outcome(
    parity_shim: Worker,
) -> None:
    """The handler's backoff is days: only retries without backoff answer within the
    20 s the test waits. Production retries keep their backoff (tests/unit)."""
    set_route("it.flaky_count", Mode.FUNCTION)
    log = f"parity-flaky-{uuid.uuid4().hex[:6]}"
    assert flaky_count(log, 2) == "answered after 3 attempts"
    assert parity_shim.effects(log) == ["attempt-1", "attempt-2", "attempt-3"]


def test_parity_a_transient_error_past_max_retries_fails_the_call(parity_shim: Worker) -> None:
    from shims import parity

    set_route("it.flaky_count", Mode.FUNCTION)
    log = f"parity-dead-{uuid.uuid4().hex[:6]}"
    with pytest.raises(FunctionPathError, match="max retries exceeded after 4 attempt"):
        flaky_count(log, 99)
    assert len(parity_shim.effects(log)) == 4
    assert list(parity.report.as_dict()["features"]["it.flaky_count"]["failed"]) != []


def test_parity_an_answered_exception_delivers_the_handlers_mail_first(
    parity_shim: Worker,
) -> None:
    set_route("it.mail_then_refuse", Mode.FUNCTION)
    mail.outbox = []
    with pytest.raises(QuoteRefused, match=r"\(worker\)"):
        mail_then_refuse("a@example.com")
    assert [(m.subject, m.to) for m in mail.outbox] == [("Sorry", ["a@example.com"])]
