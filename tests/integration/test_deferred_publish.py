"""A publish deferred to ``on_commit`` that fails never loses the event (real worker, Redis).

With the broker down, a fire-and-forget call inside ``transaction.atomic`` has already
returned to its caller when the publish runs after the commit: nobody is left to raise
to. The shim keeps the event instead: in the outbox table when ``shims.django`` is
installed (the relay publishes it once the broker is back), else in the dead-letter
store with reason ``publish failed`` (``strangler dlq replay`` sends it). Each test then
brings the broker back and checks that the worker really handles the event, once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from django.db import transaction

from shims.celery import build_app, close_app
from shims.config import Settings
from shims.deadletter import open_dead_letters
from shims.dispatch import breakers, dispatch_only, publisher, routed
from shims.outbox import pending_count, relay_once
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime
from strangler.cli import main
from tests.integration.conftest import Worker

pytestmark = [
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@routed("it.d.strict", task="it.tasks.record", fallback=False)
def record_strict(log: str, n: int) -> None:
    raise AssertionError("the monolith body must not run on the function path")


@pytest.fixture
def broker_down(redis_worker: Worker) -> Iterator[Worker]:
    """Routes in memory, ``it.d.strict`` on the function path, the shim's broker dead."""
    configure(route_store_url="memory://", route_ttl=0)
    get_runtime().store.set(Route("it.d.strict", Mode.FUNCTION), actor="test")
    breakers.clear()
    dead = build_app(
        Settings(broker_url=DEAD_BROKER, result_backend=DEAD_BROKER),
        name="dead", task_default_queue=redis_worker.queue,
    )  # fmt: skip
    publisher.use_app(dead)
    yield redis_worker
    publisher.use_app(None)
    close_app(dead)
    breakers.clear()
    reset_runtime()


def outcomes(feature: str) -> dict[str, int]:
    stats = get_runtime().metrics.snapshot().get((feature, "function"))
    return {} if stats is None else dict(stats.outcomes)


def relay_with_the_broker_back(worker: Worker) -> int:
    publisher.use_app(worker.app)
    sent = 0
    while pending_count():
        result = relay_once(50)
        assert result.failed == 0, result.error
        sent += result.sent
    return sent


def test_routed_without_fallback_keeps_the_event_in_the_outbox(broker_down: Worker) -> None:
    log = f"deferred-{uuid.uuid4().hex[:6]}"
    with transaction.atomic():
        assert record_strict(log, 7) is None  # the caller saw success
    # after the commit the publish failed: the event waits in the outbox
    assert pending_count() == 1
    assert outcomes("it.d.strict") == {"error": 1}
    assert relay_with_the_broker_back(broker_down) == 1
    assert broker_down.wait_for_effects(log, 1) == ["7"]


def test_dispatch_only_inside_atomic_never_raises_after_commit(broker_down: Worker) -> None:
    log = f"retired-{uuid.uuid4().hex[:6]}"
    with transaction.atomic():  # the commit must not raise from the atomic's exit
        dispatch_only("it.d.retired", task="it.tasks.record", arguments={"log": log, "n": 3})
    assert pending_count() == 1
    assert outcomes("it.d.retired") == {"error": 1}
    assert relay_with_the_broker_back(broker_down) == 1
    assert broker_down.wait_for_effects(log, 1) == ["3"]


@pytest.fixture
def without_outbox_app(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A monolith that did not install ``shims.django``: dead letters in a SQLite file."""
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "shims.django"]
    url = f"sqlite:///{tmp_path}/handlers.db"
    monkeypatch.setenv("STRANGLER_DLQ_URL", url)
    monkeypatch.chdir(tmp_path)  # the CLI's default settings write nothing into the repo
    return url


@pytest.mark.parametrize("entry_point", ["routed", "dispatch_only"])
def test_without_the_outbox_app_the_event_is_dead_lettered_and_replayable(
    broker_down: Worker, without_outbox_app: str, redis_url: str, entry_point: str
) -> None:
    log = f"dlq-{entry_point}-{uuid.uuid4().hex[:6]}"
    with transaction.atomic():
        if entry_point == "routed":
            record_strict(log, 5)
        else:
            dispatch_only("it.d.retired", task="it.tasks.record", arguments={"log": log, "n": 5})
    store = open_dead_letters(without_outbox_app)
    try:
        [entry] = store.list()
    finally:
        store.close()
    assert entry.reason == "publish failed"
    assert entry.task == "it.tasks.record"
    assert entry.event["data"] == {"log": log, "n": 5}
    assert broker_down.effects(log) == []

    replayed = CliRunner().invoke(
        main,
        ["dlq", "replay", str(entry.id), "--url", without_outbox_app, "--broker", redis_url,
         "--queue", broker_down.queue],
    )  # fmt: skip
    assert replayed.exit_code == 0, replayed.output
    assert broker_down.wait_for_effects(log, 1) == ["5"]
    listed = CliRunner().invoke(
        main, ["dlq", "list", "--format", "json", "--url", without_outbox_app]
    )
    assert json.loads(listed.output) == []
