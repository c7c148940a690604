"""The Celery app the integration worker runs: ``celery -A tests.integration.app.worker``.

Broker, result backend and handler stores come from the environment
(``STRANGLER_BROKER_URL``, ``STRANGLER_RESULT_BACKEND``, ``STRANGLER_DEDUPE_URL``,
``STRANGLER_DLQ_URL``), which the ``worker`` fixture sets per test module.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.integration.app.settings")
django.setup()

from django.core.mail import send_mail  # noqa: E402

from shims.celery import build_app  # noqa: E402
from shims.config import load_settings  # noqa: E402
from shims.events import Event  # noqa: E402
from shims.handlers import handler  # noqa: E402
from tests.integration.app.errors import QuoteRefused  # noqa: E402

OUT = Path(os.environ.get("IT_OUT_DIR", "/tmp/strangler-it"))

app = build_app(load_settings(), name="it")

fast = {"backoff_base": 0.05, "backoff_max": 0.2, "lease": 5.0}


def record_effect(name: str, line: str) -> None:
    """An observable side effect: one appended line per execution."""
    with (OUT / f"{name}.log").open("a") as fh:
        fh.write(line + "\n")


@app.task(name="it.ping")
def ping() -> str:
    return "pong"


@handler(app, "it.tasks.add", **fast)
def add(event: Event) -> Any:
    time.sleep(float(event.data.get("sleep", 0)))
    return {"sum": event.data["a"] + event.data["b"], "by": "function"}


@handler(app, "it.tasks.add_off_by_one", **fast)
def add_off_by_one(event: Event) -> Any:
    return {"sum": event.data["a"] + event.data["b"] + 1, "by": "function"}


@handler(app, "it.tasks.slow", **fast)
def slow(event: Event) -> Any:
    time.sleep(float(event.data["sleep"]))
    return event.data["value"]


@handler(app, "it.tasks.fail", **fast)
def fail(event: Event) -> Any:
    raise ValueError("candidate is broken")


@handler(
    app,
    "it.tasks.record",
    schema={"type": "object", "required": ["log", "n"], "properties": {"n": {"type": "integer"}}},
    **fast,
)
def record(event: Event) -> Any:
    record_effect(event.data["log"], str(event.data["n"]))
    return event.data["n"]


@handler(app, "it.tasks.flaky", max_retries=2, **fast)
def flaky(event: Event) -> Any:
    if Path(event.data["fail_flag"]).exists():
        raise ConnectionError("downstream unavailable")
    record_effect(event.data["log"], str(event.data["n"]))
    return "ok"


@handler(app, "it.tasks.crashy", backoff_base=0.05, backoff_max=0.2, lease=3.0)
def crashy(event: Event) -> Any:
    """Slow enough to be killed mid-way: 'start' and 'done' lines show how far it got."""
    record_effect(event.data["log"], f"start-{os.getpid()}")
    deadline = time.monotonic() + 30
    while Path(event.data["hold"]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    record_effect(event.data["log"], "done")
    return "done"


@handler(app, "it.tasks.notify", **fast)
def notify(event: Event) -> Any:
    send_mail(
        "Order confirmed", f"order {event.data['order_id']}", "shop@example.com", [event.data["to"]]
    )
    return "sent"


@handler(app, "it.tasks.refuse", **fast)
def refuse(event: Event) -> Any:
    """Answers with a domain error the caller knows, or one only this process defines."""
    if event.data.get("unknown_type"):
        raise type("WorkerOnlyError", (Exception,), {"__module__": "it_worker_only"})("?")
    raise QuoteRefused(f"no quote for {event.data['country']} (worker)")


# Parity (tests run under shims.parity against a worker started with STRANGLER_PARITY_WORKER=1)


@handler(app, "it.tasks.flaky_count", max_retries=3, backoff_base=1e6, backoff_max=1e6, lease=5.0)
def flaky_count(event: Event) -> Any:
    """Fails with a transient error ``fail_times`` times, then answers; backoff in days."""
    log = OUT / f"{event.data['log']}.log"
    attempts = len(log.read_text().split()) if log.exists() else 0
    record_effect(event.data["log"], f"attempt-{attempts + 1}")
    if attempts < event.data["fail_times"]:
        raise ConnectionError("downstream unavailable")
    return f"answered after {attempts + 1} attempts"


@handler(app, "it.tasks.mail_then_refuse", **fast)
def mail_then_refuse(event: Event) -> Any:
    send_mail("Sorry", "no quote", "shop@example.com", [event.data["to"]])
    raise QuoteRefused(f"no quote for {event.data['to']} (worker)")
