"""Fire-and-forget needs the broker only: a dead result backend must not stop it.

Real filesystem transport (no server), and a Redis result backend on a closed port.
The published message is read back from the transport's queue folder.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shims.celery import build_app, close_app
from shims.config import Settings
from shims.dispatch import breakers, publisher, routed
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime

DEAD_RESULTS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@routed("it.rb.record", task="it.tasks.record", fallback=False)
def record(log: str, n: int) -> None:
    raise AssertionError("the monolith body must not run on the function path")


@pytest.fixture
def results_down(tmp_path: Path) -> Iterator[Path]:
    settings = Settings(
        broker_url="filesystem://", broker_folder=str(tmp_path / "broker"),
        result_backend=DEAD_RESULTS,
    )  # fmt: skip
    configure(route_store_url="memory://", route_ttl=0)
    get_runtime().store.set(Route("it.rb.record", Mode.FUNCTION), actor="test")
    breakers.clear()
    app = build_app(settings, name="results-down")
    publisher.use_app(app)
    yield tmp_path / "broker" / "queue"
    publisher.use_app(None)
    close_app(app)
    breakers.clear()
    reset_runtime()


def queued_events(folder: Path) -> list[dict[str, Any]]:
    events = []
    for path in sorted(folder.glob("*.msg")):
        message = json.loads(path.read_text())
        body = (
            base64.b64decode(message["body"])
            if "body_encoding" in message.get("properties", {})
            else message["body"]
        )
        args, _kwargs, _embed = json.loads(body)
        events.append(args[0])
    return events


def test_fire_and_forget_publishes_with_the_result_backend_down(results_down: Path) -> None:
    assert record("rb", 1) is None  # before the fix: FunctionPathError from the backend
    [event] = queued_events(results_down)
    assert event["data"] == {"log": "rb", "n": 1}
    stats = get_runtime().metrics.snapshot()[("it.rb.record", "function")]
    assert dict(stats.outcomes) == {"ok": 1}
