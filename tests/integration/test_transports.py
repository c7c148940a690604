"""The same two styles on RabbitMQ and on the filesystem transport (no server at all)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shims.dispatch import publisher, routed
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime
from tests.integration.conftest import Worker, start_worker, worker_settings


@routed("it.t.add", task="it.tasks.add", style="request_reply", timeout=10.0)
def add(a: int, b: int) -> dict[str, Any]:
    return {"sum": a + b, "by": "monolith"}


@routed("it.t.record", task="it.tasks.record")
def record(log: str, n: int) -> None:
    raise AssertionError("the monolith body must not run on the function path")


@pytest.fixture
def routed_to(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    publisher.use_app(None)
    reset_runtime()


def exercise(worker: Worker) -> None:
    configure(route_store_url="memory://", route_ttl=0)
    publisher.use_app(worker.app)
    store = get_runtime().store
    store.set(Route("it.t.add", Mode.FUNCTION), actor="test")
    store.set(Route("it.t.record", Mode.FUNCTION), actor="test")
    assert add(20, 22) == {"sum": 42, "by": "function"}
    log = f"t-{uuid.uuid4().hex[:6]}"
    assert record(log, 1) is None
    assert record(log, 2) is None
    assert sorted(worker.wait_for_effects(log, 2)) == ["1", "2"]


@pytest.mark.rabbitmq
@pytest.mark.worker
def test_rabbitmq(rabbitmq_url: str, tmp_path: Path, routed_to: None) -> None:
    settings = worker_settings(rabbitmq_url, "rpc://", tmp_path)
    with start_worker(settings, tmp_path / "out", "sqlite:///" + str(tmp_path / "h.db")) as w:
        exercise(w)


@pytest.mark.worker
def test_filesystem_transport(tmp_path: Path, routed_to: None) -> None:
    settings = worker_settings("filesystem://", f"file://{tmp_path}/results", tmp_path)
    with start_worker(settings, tmp_path / "out", "sqlite:///" + str(tmp_path / "h.db")) as w:
        exercise(w)
