"""Transactional outbox and publish-on-commit, against a real worker on Redis.

The monolith side is this process (pytest-django database); the handler side is the
worker subprocess, whose effects are lines in a file, one per execution.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from shims.celery import build_app, close_app
from shims.config import Settings
from shims.dispatch import publisher, routed
from shims.outbox import pending_count, relay_once
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime
from tests.integration.conftest import Worker

pytestmark = [
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

DEAD_BROKER = "redis://127.0.0.1:1/0"


@routed("it.o.record", task="it.tasks.record", outbox=True)
def record_outboxed(log: str, n: int) -> None:
    raise AssertionError("the monolith body must not run on the function path")


@routed("it.o.on_commit", task="it.tasks.record")
def record_on_commit(log: str, n: int) -> None:
    raise AssertionError("the monolith body must not run on the function path")


@pytest.fixture
def routes(redis_worker: Worker) -> Iterator[Worker]:
    configure(route_store_url="memory://", route_ttl=0)
    store = get_runtime().store
    for feature in ("it.o.record", "it.o.on_commit"):
        store.set(Route(feature, Mode.FUNCTION), actor="test")
    yield redis_worker
    publisher.use_app(None)
    reset_runtime()


@pytest.fixture
def dead_app(redis_worker: Worker) -> Iterator[Any]:
    app = build_app(
        Settings(broker_url=DEAD_BROKER, result_backend=DEAD_BROKER),
        name="dead", task_default_queue=redis_worker.queue,
    )  # fmt: skip
    yield app
    close_app(app)


def produce(log: str, count: int) -> list[str]:
    """``count`` calls, each in its own transaction; every third is rolled back."""
    committed = []
    for n in range(count):
        with transaction.atomic():
            record_outboxed(log, n)
            if n % 3 == 0:
                transaction.set_rollback(True)
            else:
                committed.append(str(n))
    return committed


def test_broker_outage_loses_nothing_and_relays_exactly_the_committed(
    routes: Worker, dead_app: Any
) -> None:
    log = f"outbox-{uuid.uuid4().hex[:6]}"
    publisher.use_app(dead_app)  # the broker is down while the monolith works
    committed = produce(log, 100)
    assert pending_count() == len(committed) == 66

    down = relay_once(50)
    assert down.sent == 0
    assert down.failed == 50
    assert pending_count() == 66

    publisher.use_app(routes.app)  # the broker is back
    sent = 0
    while pending_count():
        sent += relay_once(50).sent
    assert sent == 66
    routes.wait_for_effects(log, 66)
    time.sleep(0.5)  # anything extra would show up now
    assert sorted(routes.effects(log), key=int) == committed


def test_two_relays_at_once_publish_each_row_once(routes: Worker) -> None:
    log = f"outbox2-{uuid.uuid4().hex[:6]}"
    publisher.use_app(routes.app)
    committed = produce(log, 60)
    published: list[str] = []
    lock = threading.Lock()

    def publish(task: str, event: dict[str, Any]) -> None:
        with lock:
            published.append(event["id"])
        publisher.publish(get_runtime().settings, task, event)

    def relay() -> None:
        from django.db import connection

        try:
            while pending_count():  # rows the other relay holds count until it marks them
                relay_once(5, publish=publish)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(published) == len(set(published)) == len(committed)
    routes.wait_for_effects(log, len(committed))
    assert sorted(routes.effects(log), key=int) == committed


def test_fire_and_forget_inside_atomic_publishes_on_commit_only(routes: Worker) -> None:
    log = f"commit-{uuid.uuid4().hex[:6]}"
    publisher.use_app(routes.app)
    with transaction.atomic():
        record_on_commit(log, 1)
        time.sleep(0.3)
        assert routes.effects(log) == []  # not before the commit
    with transaction.atomic():
        record_on_commit(log, 2)
        transaction.set_rollback(True)
    assert routes.wait_for_effects(log, 1) == ["1"]
    time.sleep(0.5)
    assert routes.effects(log) == ["1"]
