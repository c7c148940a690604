"""Acceptance: a separate running process sees `strangler route set` within TTL + 0.5 s.

The other process is a real interpreter that built its runtime from the environment
(``STRANGLER_ROUTE_STORE``, ``STRANGLER_ROUTE_TTL``) and polls its route table the way
the ``@routed`` hot path does. The change is made with the real CLI command.
"""

from __future__ import annotations

import json
import os
import queue
import random
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from strangler.cli import main
from tests.conftest import REDIS_DBS

TTL = 1.0
SLACK = 0.5
REDIS_DB = REDIS_DBS["integration.live_toggle"]  # this file's own database (tests/conftest.py)

WATCHER = textwrap.dedent(
    """
    import json, sys, time
    from shims import decide, get_runtime
    feature = sys.argv[1]
    table = get_runtime().table
    last = object()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        route = table.get(feature)
        seen = None if route is None else [route.mode.value, route.percent]
        if seen != last:
            print(json.dumps({"route": seen, "path": decide(route, "user-1").value}), flush=True)
            last = seen
        time.sleep(0.005)
    """
)


class Watcher:
    """The other process, with its stdout lines delivered through a queue."""

    def __init__(self, store_url: str, feature: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(STRANGLER_ROUTE_STORE=store_url, STRANGLER_ROUTE_TTL=str(TTL))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WATCHER, feature],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[tuple[float, dict[str, object]]] = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), json.loads(line)))  # when it was seen

    def next(self, timeout: float) -> tuple[float, dict[str, object]]:
        """``(monotonic time the line arrived, the line)``."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the other process reported nothing within {timeout} s") from None

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.pump.join(timeout=10)  # the pipe is at EOF once the process is gone
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def feature() -> str:
    return f"orders.confirm_{uuid.uuid4().hex[:8]}"


def route_set(store_url: str, *args: str) -> None:
    result = CliRunner().invoke(main, ["route", "set", *args, "--store", store_url])
    assert result.exit_code == 0, result.output


def assert_live_toggle(store_url: str, feature: str) -> list[float]:
    # The store exists (and the feature is on the monolith) before the process starts.
    route_set(store_url, feature, "monolith", "--reason", "baseline")
    watcher = Watcher(store_url, feature)
    delays = []
    try:
        assert watcher.next(timeout=30)[1] == {"route": ["monolith", 0], "path": "monolith"}
        steps = [
            (("shadow",), ["shadow", 0], "shadow"),
            (("canary", "--percent", "100"), ["canary", 100], "function"),
            (("function",), ["function", 0], "function"),
            (("monolith",), ["monolith", 0], "monolith"),
        ]
        for args, route, path in steps:
            time.sleep(random.uniform(0, TTL))  # land the change anywhere in the TTL window
            route_set(store_url, feature, *args, "--reason", "live toggle test")
            # Timed from the moment the CLI's write has returned (the change is in the
            # store), to the moment the other process printed it: the CLI's own start-up
            # and the test's scheduling are not part of the propagation delay.
            written = time.monotonic()
            arrived, seen = watcher.next(timeout=TTL + SLACK + 5)
            delays.append(max(0.0, arrived - written))
            assert seen == {"route": route, "path": path}
    finally:
        watcher.stop()
    print(f"{store_url.split(':')[0]}: changes seen after {[round(d, 3) for d in delays]} s")
    assert max(delays) <= TTL + SLACK, f"change seen after {max(delays):.3f} s: {delays}"
    return delays


def test_live_toggle_on_the_sqlite_store(tmp_path: Path, feature: str) -> None:
    assert_live_toggle(f"sqlite:///{tmp_path}/routes.db", feature)


@pytest.mark.redis
def test_live_toggle_on_redis(redis_server: str, feature: str) -> None:
    import redis

    prefix = f"live-{uuid.uuid4().hex[:8]}:"
    url = f"{redis_server}/{REDIS_DB}?prefix={prefix}"
    try:
        assert_live_toggle(url, feature)
    finally:
        client = redis.Redis.from_url(f"{redis_server}/{REDIS_DB}")
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
