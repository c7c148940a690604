"""The handler base run in-process (``Task.apply``) with memory stores: unit level only.

Delivery through a real broker and worker: tests/integration/test_handlers_redis.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from celery import Celery
from django.core import mail
from django.core.mail import send_mail

from shims.encoding import RemoteError, decode_exception
from shims.events import Event, build_event, current_traceparent, use_traceparent
from shims.handlers import DeadLettered, handler

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def app() -> Celery:
    return Celery("unit", set_as_current=False)


def register(app: Celery, fn: Any, **kw: Any) -> Any:
    return handler(app, "t.unit", dedupe_url="memory://", dead_letter_url="memory://", **kw)(fn)


def test_runs_once_per_event_id_and_replays_the_stored_result(app: Celery) -> None:
    calls: list[str] = []

    def handle(event: Event) -> Any:
        calls.append(event.id)
        return {"n": len(calls)}

    task = register(app, handle)
    event = build_event("f", {"a": 1})
    assert task.apply(args=[event]).get() == {"n": 1}
    assert task.apply(args=[event]).get() == {"n": 1}
    assert calls == [event["id"]]


def test_invalid_events_are_dead_lettered_and_not_run(app: Celery) -> None:
    task = register(app, lambda e: pytest.fail("must not run"), schema={"required": ["a"]})
    result = task.apply(args=[build_event("f", {"b": 1})])
    with pytest.raises(DeadLettered, match="schema"):
        result.get()
    [entry] = task.strangler_state.dead_letters.list()
    assert entry.reason.startswith("invalid: schema: (root): 'a' is a required property")
    assert entry.attempts == 0


def test_a_non_transient_error_dead_letters_at_once(app: Celery) -> None:
    def handle(event: Event) -> Any:
        raise ValueError("bad data")

    task = register(app, handle)
    with pytest.raises(DeadLettered, match="error after 1 attempt"):
        task.apply(args=[build_event("f", {})]).get()
    [entry] = task.strangler_state.dead_letters.list()
    assert (entry.reason, entry.last_error) == ("error", "ValueError: bad data")


def test_the_trace_context_follows_the_event_into_the_handler(app: Celery) -> None:
    seen: list[str | None] = []
    task = register(app, lambda e: seen.append(current_traceparent()))
    with use_traceparent(TRACE):
        event = build_event("f", {})
    task.apply(args=[event]).get()
    assert seen == [TRACE]
    assert current_traceparent() is None


@pytest.mark.django_db
def test_shadow_events_capture_mail_and_return_effects(app: Celery) -> None:
    def handle(event: Event) -> str:
        send_mail("S", "B", "a@example.com", ["b@example.com"])
        return "sent"

    task = register(app, handle)
    mail.outbox = []
    reply = task.apply(args=[build_event("f", {}, shadow=True)]).get()
    assert mail.outbox == []
    assert reply["result"] == "sent"
    assert [m["subject"] for m in reply["effects"]["mail"]] == ["S"]
    assert task.strangler_state.dead_letters.list() == []


def run_once(handlers: Any, task: Any) -> Any:
    return handlers.run(
        _Task(), task.strangler_spec, task.strangler_state, task.handle, build_event("f", {})
    )


class _Task:
    """The two things ``run`` uses of a bound Celery task; its retry publish fails."""

    class request:  # mirrors Celery's ``task.request``
        retries = 0

    def retry(self, **options: Any) -> Exception:
        from celery.exceptions import Reject

        raise Reject(OSError("broker down"), requeue=False)  # what Celery does


def test_a_retry_the_broker_refused_requeues_instead_of_dropping(
    app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery.exceptions import Reject

    from shims import handlers

    monkeypatch.setattr(handlers, "REQUEUE_PAUSE", 0.0)
    task = register(app, lambda e: (_ for _ in ()).throw(ConnectionError("flaky")))
    with pytest.raises(Reject) as info:
        run_once(handlers, task)
    assert info.value.requeue is True


def test_an_unavailable_dead_letter_store_requeues(
    app: Celery, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from celery.exceptions import Reject

    from shims import handlers

    monkeypatch.setattr(handlers, "REQUEUE_PAUSE", 0.0)
    (tmp_path / "blocked").write_text("not a folder")
    blocked = f"sqlite:///{tmp_path}/blocked/h.db"
    register_blocked = handler(app, "t.unit2", dedupe_url="memory://", dead_letter_url=blocked)
    task = register_blocked(lambda e: 1 / 0)
    with pytest.raises(Reject) as info:
        run_once(handlers, task)
    assert info.value.requeue is True


def test_state_stores_borrow_a_redis_route_store_url_with_its_key_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dedupe and dead-letter stores that borrow a Redis route store's URL keep its
    ``?prefix=``: their keys live beside the routes, so two projects sharing a database
    with their own prefixes never read each other's dead letters."""
    from shims.handlers import dead_letter_url, dedupe_url

    monkeypatch.delenv("STRANGLER_DEDUPE_URL", raising=False)
    monkeypatch.delenv("STRANGLER_DLQ_URL", raising=False)
    url = "redis://:pw@h:6379/3?prefix=app:&socket_timeout=2"
    monkeypatch.setenv("STRANGLER_ROUTE_STORE", url)
    assert dedupe_url() == url
    assert dead_letter_url() == url


@pytest.mark.parametrize("reply", [False, True])
def test_a_result_that_is_not_json_is_done_once_not_dead_lettered(
    app: Celery, reply: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """The handler did its work: a second delivery must not do it again (docs: the
    effect happens once however many times the event is delivered)."""
    calls: list[str] = []

    def handle(event: Event) -> Any:
        calls.append(event.id)
        return {1, 2}  # a set: not JSON

    task = register(app, handle)
    event = build_event("f", {}, reply=reply)
    first = task.apply(args=[event]).get()
    second = task.apply(args=[event]).get()  # redelivered, or replayed
    assert calls == [event["id"]]
    assert first == second
    assert task.strangler_state.dead_letters.list() == []
    error = decode_exception(first)
    assert isinstance(error, RemoteError)  # what a request/reply caller raises
    assert "not JSON" in str(error)
    assert "set is not JSON serializable" in caplog.text


class _Request:
    """Celery's ``task.request``: the message carries ``expires`` as ISO 8601 text."""

    def __init__(self, expires: datetime) -> None:
        self.retries = 0
        self.expires = expires.isoformat()


class _ExpiringTask:
    """A bound task whose message expires at ``expires``; records retries."""

    def __init__(self, expires: datetime) -> None:
        self.request = _Request(expires)
        self.retried: list[dict[str, Any]] = []

    def retry(self, **options: Any) -> Exception:
        from celery.exceptions import Retry

        self.retried.append(options)
        raise Retry("retry")


PAST = datetime.now(UTC) - timedelta(seconds=1)
FUTURE = datetime.now(UTC) + timedelta(hours=1)


def test_a_reply_event_past_its_callers_deadline_is_not_run(app: Celery) -> None:
    """The caller fell back to the monolith at its deadline: running it now would do the
    work twice. Not dead-lettered either (a replay would too)."""
    from celery.exceptions import Ignore

    from shims import handlers

    task = register(app, lambda e: pytest.fail("must not run"))
    fake = _ExpiringTask(PAST)
    event = build_event("f", {}, reply=True)
    with pytest.raises(Ignore):
        handlers.run(fake, task.strangler_spec, task.strangler_state, task.handle, event)
    assert fake.retried == []
    assert task.strangler_state.dead_letters.list() == []


@pytest.mark.parametrize("max_retries", [0, 5])
def test_a_transient_error_is_not_retried_past_the_callers_deadline(
    app: Celery, max_retries: int
) -> None:
    from celery.exceptions import Ignore

    from shims import handlers

    fake = _ExpiringTask(FUTURE)
    calls: list[str] = []

    def handle(event: Event) -> Any:
        calls.append(event.id)
        fake.request.expires = PAST.isoformat()  # the caller's deadline passes meanwhile
        raise ConnectionError("flaky")

    task = register(app, handle, max_retries=max_retries)
    event = build_event("f", {}, reply=True)
    with pytest.raises(Ignore):
        handlers.run(fake, task.strangler_spec, task.strangler_state, task.handle, event)
    assert len(calls) == 1
    assert fake.retried == []  # no retry after the caller gave up...
    assert task.strangler_state.dead_letters.list() == []  # ...nor a dead letter to replay


def test_a_reply_event_before_its_deadline_and_other_events_run_and_retry(app: Celery) -> None:
    from celery.exceptions import Retry

    from shims import handlers

    def flaky(event: Event) -> Any:
        raise ConnectionError("flaky")

    task = register(app, flaky, backoff_base=0.0)
    fake = _ExpiringTask(FUTURE)
    with pytest.raises(Retry):
        handlers.run(fake, task.strangler_spec, task.strangler_state, task.handle,
                     build_event("f", {}, reply=True))  # fmt: skip
    assert len(fake.retried) == 1
    fake = _ExpiringTask(PAST)  # expires only matters to a caller that waits
    with pytest.raises(Retry):
        handlers.run(fake, task.strangler_spec, task.strangler_state, task.handle,
                     build_event("f", {}))  # fmt: skip
    assert len(fake.retried) == 1


class _Ticks:
    """A clock that moves one second each time the dedupe store reads it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_waiting_for_a_dead_workers_claim_spends_no_retry_of_the_handler(app: Celery) -> None:
    """The look-agains at a claim another delivery holds are Celery retries too; they
    must not count as attempts: the event would be dead-lettered after one real run."""
    from shims.dedupe import MemoryDedupe

    calls: list[int] = []

    def flaky_once(event: Event) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("flaky")
        return "ok"

    task = register(app, flaky_once, max_retries=2, backoff_base=0.0, lease=4.0)
    store = MemoryDedupe(clock=_Ticks())
    task.strangler_state._dedupe = store
    event = build_event("f", {})
    store.claim(event["id"], 4.0)  # a worker that died holding it (lease until t=5)
    assert task.apply(args=[event]).get() == "ok"
    assert len(calls) == 2
    assert task.strangler_state.dead_letters.list() == []


def test_a_reply_event_out_of_retries_fails_to_its_caller_and_is_not_dead_lettered(
    app: Celery,
) -> None:
    """Its caller falls back to the monolith body on the failure: a dead letter of it,
    replayed, would do that work a second time."""
    from shims.handlers import RetriesExhausted

    calls: list[str] = []

    def handle(event: Event) -> Any:
        calls.append(event.id)
        raise ConnectionError("downstream down")

    task = register(app, handle, max_retries=1, backoff_base=0.0)
    with pytest.raises(RetriesExhausted, match="2 attempt"):
        task.apply(args=[build_event("f", {}, reply=True)]).get()
    assert len(calls) == 2
    assert task.strangler_state.dead_letters.list() == []
    with pytest.raises(DeadLettered, match="max retries exceeded"):  # one nobody waits for
        task.apply(args=[build_event("f", {})]).get()
    assert len(task.strangler_state.dead_letters.list()) == 1


def test_a_blip_of_the_dedupe_store_after_the_work_does_not_run_the_event_again(
    app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requeued when ``complete`` failed, the event's claim outlived the delivery: the
    redelivery waited out the lease, then ran the handler a second time."""
    from shims import handlers
    from shims.dedupe import ClaimState, MemoryDedupe

    class Blip(MemoryDedupe):
        failures = 1

        def complete(self, event_id: str, token: str, result_json: str, ttl: float) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("dedupe store restarting")
            super().complete(event_id, token, result_json, ttl)

    monkeypatch.setattr(handlers, "REQUEUE_PAUSE", 0.0)
    calls: list[str] = []
    task = register(app, lambda e: calls.append(e.id) or "done")
    store = Blip()
    task.strangler_state._dedupe = store
    event = build_event("f", {})
    assert task.apply(args=[event]).get() == "done"
    assert task.apply(args=[event]).get() == "done"  # a redelivery: answered, not run
    assert len(calls) == 1
    assert store.claim(event["id"], 1.0).state is ClaimState.DONE
