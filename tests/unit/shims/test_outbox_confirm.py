"""Confirmations: the store contract on every backend, and what the handler base writes.

The handler base runs in-process (``Task.apply``) with memory stores, like
tests/unit/shims/test_handlers.py; the Redis backend uses the real server (db 13).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from shims.confirm import (
    CONFIRM_ATTRIBUTE,
    ConfirmationStore,
    MemoryConfirmations,
    Outcome,
    open_confirmations,
    wants_confirmation,
)
from shims.events import Event, build_event
from shims.handlers import DeadLettered, handler
from tests.conftest import REDIS_DBS

REDIS_DB = REDIS_DBS["unit.outbox_confirm"]  # this file's own database (tests/conftest.py)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConfirmationStore]:
    if request.param == "redis":
        base = request.getfixturevalue("redis_server")
        opened = open_confirmations(f"{base}/{REDIS_DB}")
    elif request.param == "sqlite":
        opened = open_confirmations(f"sqlite:///{tmp_path}/handlers.db")
    else:
        opened = open_confirmations("memory://")
    yield opened
    opened.close()


def test_outcomes_are_the_confirmed_ids_only(store: ConfirmationStore) -> None:
    done, dead, unknown = (uuid.uuid4().hex for _ in range(3))
    store.confirm(done, Outcome.DONE, ttl=60)
    store.confirm(dead, Outcome.DEAD, ttl=60)
    assert store.outcomes([done, dead, unknown]) == {done: Outcome.DONE, dead: Outcome.DEAD}
    assert store.outcomes([]) == {}


def test_a_later_confirmation_replaces_the_earlier(store: ConfirmationStore) -> None:
    event_id = uuid.uuid4().hex
    store.confirm(event_id, Outcome.DEAD, ttl=60)
    store.confirm(event_id, Outcome.DONE, ttl=60)  # replayed from the DLQ, then handled
    assert store.outcomes([event_id]) == {event_id: Outcome.DONE}


def test_many_ids_are_read_in_chunks(store: ConfirmationStore) -> None:
    ids = [uuid.uuid4().hex for _ in range(1200)]
    for event_id in ids[::3]:
        store.confirm(event_id, Outcome.DONE, ttl=60)
    assert set(store.outcomes(ids)) == set(ids[::3])


def test_confirmations_expire() -> None:
    now = [100.0]
    store = MemoryConfirmations(clock=lambda: now[0])
    store.confirm("a", Outcome.DONE, ttl=5)
    now[0] += 6
    assert store.outcomes(["a"]) == {}


def test_sqlite_confirmations_expire(tmp_path: Path) -> None:
    store = open_confirmations(f"sqlite:///{tmp_path}/handlers.db")
    store.confirm("a", Outcome.DONE, ttl=0.05)
    time.sleep(0.1)
    assert store.outcomes(["a"]) == {}


def test_an_unknown_scheme_is_a_one_line_error_with_the_password_masked() -> None:
    with pytest.raises(ValueError, match=r"unknown confirmation store URL 'mongo://u:\*\*\*\*@h'"):
        open_confirmations("mongo://u:secret@h")


# ---------------------------------------------------------------- the handler base


@pytest.fixture
def app() -> Celery:
    return Celery("unit", set_as_current=False)


def register(app: Celery, fn: Any, **kw: Any) -> Any:
    return handler(app, "t.unit", dedupe_url="memory://", dead_letter_url="memory://", **kw)(fn)


def confirmable(data: dict[str, Any]) -> dict[str, Any]:
    return {**build_event("f", data), CONFIRM_ATTRIBUTE: True}


def outcomes(task: Any, event: dict[str, Any]) -> dict[str, Outcome]:
    store: ConfirmationStore = task.strangler_state.confirmations
    return store.outcomes([event["id"]])


def test_only_events_that_ask_are_confirmed() -> None:
    assert wants_confirmation({CONFIRM_ATTRIBUTE: True})
    assert not wants_confirmation({CONFIRM_ATTRIBUTE: "true"})
    assert not wants_confirmation(build_event("f", {}))
    assert not wants_confirmation(["not", "an", "event"])


def test_a_handled_event_is_confirmed_done_and_a_duplicate_confirms_again(app: Celery) -> None:
    calls: list[str] = []
    task = register(app, lambda e: calls.append(e.id))
    event = confirmable({"a": 1})
    task.apply(args=[event]).get()
    assert outcomes(task, event) == {event["id"]: Outcome.DONE}
    store = task.strangler_state.confirmations
    store._rows.clear()  # the confirmation write was lost: the relay republishes
    task.apply(args=[event]).get()
    assert outcomes(task, event) == {event["id"]: Outcome.DONE}
    assert calls == [event["id"]]  # the effect once


def test_an_event_without_the_attribute_writes_no_confirmation(app: Celery) -> None:
    task = register(app, lambda e: "ok")
    event = build_event("f", {"a": 1})
    task.apply(args=[event]).get()
    assert outcomes(task, event) == {}


def test_a_dead_lettered_event_is_confirmed_dead(app: Celery) -> None:
    def handle(event: Event) -> Any:
        raise ValueError("bad data")

    task = register(app, handle)
    event = confirmable({"a": 1})
    with pytest.raises(DeadLettered):
        task.apply(args=[event]).get()
    assert outcomes(task, event) == {event["id"]: Outcome.DEAD}
    [entry] = task.strangler_state.dead_letters.list()
    assert entry.event_id == event["id"]


def test_an_invalid_event_is_confirmed_dead(app: Celery) -> None:
    task = register(app, lambda e: pytest.fail("must not run"), schema={"required": ["a"]})
    event = confirmable({"b": 1})
    with pytest.raises(DeadLettered, match="schema"):
        task.apply(args=[event]).get()
    assert outcomes(task, event) == {event["id"]: Outcome.DEAD}


def test_an_event_being_retried_is_not_confirmed_until_it_is_done(app: Celery) -> None:
    seen: list[dict[str, Outcome]] = []
    task: Any = None

    def handle(event: Event) -> Any:
        seen.append(task.strangler_state.confirmations.outcomes([event.id]))
        if len(seen) == 1:
            raise ConnectionError("downstream, once")
        return "ok"

    task = register(app, handle, max_retries=3, backoff_base=0.0)
    event = confirmable({"a": 1})
    assert task.apply(args=[event]).get() == "ok"  # eager: the retry runs at once
    assert seen == [{}, {}]
    assert outcomes(task, event) == {event["id"]: Outcome.DONE}
