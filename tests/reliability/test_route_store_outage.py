"""Case 5: the route store (a Redis server this test owns) is killed mid-traffic.

A running process keeps routing on the routes it last read; a process that starts
during the outage, and so never knew a route, sends everything to the monolith. The
store is password-protected so the outage warnings also prove the URL is masked.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from shims.celery import build_app, close_app
from shims.config import Settings
from shims.dispatch import breakers, publisher
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime
from shims.stores import open_store
from tests.reliability import entries
from tests.reliability.conftest import RELIABILITY_DB, RedisServer, own_redis
from tests.reliability.report import Report

pytestmark = [pytest.mark.redis]

SECRET = "s3cr3t-store-pw"
ROOT = Path(__file__).resolve().parents[2]
TTL, TIMEOUT = 0.2, 0.2


def shared_db(redis_server: str) -> str:
    return f"{redis_server}/{RELIABILITY_DB}"


@pytest.fixture
def store_server(tmp_path: Path) -> Iterator[RedisServer]:
    with own_redis(tmp_path / "store", persistent=True, password=SECRET) as server:
        yield server


@pytest.fixture
def queue(redis_server: str) -> Iterator[str]:
    """The function path publishes to a queue on the shared Redis (no worker needed)."""
    name = f"rel-store-{uuid.uuid4().hex[:8]}"
    app = build_app(
        Settings(broker_url=shared_db(redis_server), result_backend=shared_db(redis_server)),
        name="rel-store", task_default_queue=name,
    )  # fmt: skip
    publisher.use_app(app)
    breakers.clear()
    try:
        yield name
    finally:
        publisher.use_app(None)
        reset_runtime()
        close_app(app)
        client = redis.Redis.from_url(shared_db(redis_server))
        client.delete(name)
        client.close()


def queued(redis_server: str, name: str) -> int:
    client = redis.Redis.from_url(shared_db(redis_server))
    try:
        return int(client.llen(name))
    finally:
        client.close()


def timed_calls(count: int, start: int) -> list[float]:
    latencies = []
    for n in range(start, start + count):
        began = time.perf_counter()
        entries.store_apply(n)
        latencies.append(time.perf_counter() - began)
        time.sleep(0.005)
    return latencies


def test_store_outage_keeps_last_known_routes_and_a_new_process_uses_the_monolith(
    store_server: RedisServer,
    queue: str,
    redis_server: str,
    report: Report,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"{store_server.url}/0"
    admin = open_store(url)
    admin.set(Route("rel.store.apply", Mode.FUNCTION), actor="test")
    admin.close()
    configure(route_store_url=url, route_ttl=TTL, route_store_timeout=TIMEOUT)
    runs_before = entries.body_runs["store"]
    caplog.set_level(logging.DEBUG)

    timed_calls(100, 0)  # routes known: all on the function path
    store_server.kill()
    outage = timed_calls(300, 100)  # ~2.5 s of calls with the store down
    fresh = subprocess.run(
        [sys.executable, "-m", "tests.reliability.callers", "fresh", url, "50"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    store_server.start()
    time.sleep(TTL * 2)
    after = timed_calls(50, 400)

    assert fresh.returncode == 0, fresh.stderr
    never_knew = json.loads(fresh.stdout.strip().splitlines()[-1])
    assert never_knew["body_runs"] == 50  # everything to the monolith
    assert never_knew["paths"] == {"monolith": 50}
    assert entries.body_runs["store"] == runs_before  # this process never left the function
    assert queued(redis_server, queue) == 450  # every call published an event
    stats = get_runtime().metrics.snapshot()[("rel.store.apply", "function")].outcomes
    assert stats == {"ok": 450}
    # One bounded store read per TTL: no call waits much longer than the store timeout.
    assert max(outage) < TIMEOUT + 0.5
    text = caplog.text + fresh.stderr
    assert "unreachable" in caplog.text
    assert "keeping the last known routes" in caplog.text
    assert SECRET not in text
    assert ":****@127.0.0.1" in caplog.text
    report.add(
        "5. route store outage (Redis SIGKILLed)",
        "last known routes kept; a process that never knew a route uses the monolith",
        calls_during_outage=len(outage), on_function_path=450, body_runs_running_process=0,
        fresh_process_calls=50, fresh_process_monolith=never_knew["body_runs"],
        max_call_during_outage_ms=round(max(outage) * 1000, 1),
        p50_call_during_outage_ms=round(sorted(outage)[len(outage) // 2] * 1000, 3),
        after_restart_function=len(after), secret_in_logs=SECRET in text,
    )  # fmt: skip
