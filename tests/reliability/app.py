"""The Celery app the reliability worker runs: ``celery -A tests.reliability.app``.

Handlers record their effect in the effects table (``REL_EFFECTS_DB``, see
``tests.reliability.effects``), keyed by event id. Broker, results and handler state
come from the environment that ``tests.integration.conftest.start_worker`` sets.

On a Redis broker a message a worker took but never acknowledged (the connection broke
mid-task) comes back only after kombu's ``visibility_timeout`` (one hour by default):
``REL_VISIBILITY`` shortens it so that the outage test sees redeliveries within seconds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from shims.celery import build_app
from shims.config import load_settings
from shims.events import Event
from shims.handlers import handler
from tests.reliability import effects

DB = os.environ.get("REL_EFFECTS_DB", "/tmp/strangler-reliability-effects.db")

app = build_app(load_settings(), name="rel")
if os.environ.get("REL_VISIBILITY"):
    app.conf.broker_transport_options = {
        "visibility_timeout": float(os.environ["REL_VISIBILITY"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

fast: dict[str, Any] = {"backoff_base": 0.05, "backoff_max": 0.3, "lease": 3.0}
APPLY_SCHEMA = {
    "type": "object",
    "required": ["n"],
    "properties": {"n": {"type": "integer"}, "hold": {"type": "string"}},
}


@app.task(name="it.ping")
def ping() -> str:
    return "pong"


@handler(app, "rel.apply", schema=APPLY_SCHEMA, max_bytes=64 * 1024, **fast)
def apply(event: Event) -> Any:
    """The effect, once per event id; with ``hold``, wait while that file exists first."""
    hold = event.data.get("hold")
    if hold:
        effects.note(DB, "starts", event.id)
        deadline = time.monotonic() + 30
        while Path(hold).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    effects.apply(DB, event.id, int(event.data["n"]))
    return event.data["n"]


@handler(app, "rel.sum", **fast)
def total(event: Event) -> Any:
    """Request/reply: the same answer as the monolith body, plus who gave it."""
    return {"sum": event.data["a"] + event.data["b"], "by": "function"}


@handler(app, "rel.same", **fast)
def same(event: Event) -> Any:
    """Request/reply and shadow: exactly the monolith's answer (shadow compares equal)."""
    return {"sum": event.data["a"] + event.data["b"]}


@handler(
    app, "rel.poison", max_retries=3, backoff_base=0.2, backoff_max=0.8, lease=3.0,
    transient=(ConnectionError,),
)  # fmt: skip
def poison(event: Event) -> Any:
    """Fails (transiently) while ``broken`` exists: each attempt is recorded."""
    effects.note(DB, "attempts", event.id)
    if Path(event.data["broken"]).exists():
        raise ConnectionError("downstream still broken")
    effects.apply(DB, event.id, int(event.data["n"]))
    return "fixed"
