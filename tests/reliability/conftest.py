"""Fixtures of the fault-injection suite: servers it may kill, workers, the report.

* ``RedisServer``: a ``redis-server`` this suite starts on a free loopback port, in its
  own process group, so a test can SIGKILL it and start it again on the same port.
  Always stopped by the fixture's finalizer.
* ``rel_worker``: ``tests.integration.conftest.start_worker`` (one way to run a real
  Celery worker in the whole test suite) running ``tests.reliability.app``.
* ``report``: the figures of every case, written at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shims.config import Settings
from tests.conftest import REDIS_DBS, services_required
from tests.integration.conftest import Worker, start_worker, worker_settings
from tests.reliability.report import Report

READY_TIMEOUT = 10.0
# This suite's database on the shared Redis (the table is in tests/conftest.py).
RELIABILITY_DB = REDIS_DBS["reliability"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` on 127.0.0.1:``port`` that a test may kill and restart.

    ``persistent`` turns on the append-only file with ``fsync`` on every write, as a
    production broker would run: without it a restart forgets queued messages, and no
    client-side design can get them back.
    """

    def __init__(self, folder: Path, *, persistent: bool = False, password: str = "") -> None:
        self.folder = folder
        self.password = password
        self.port = free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else [
            "--appendonly", "no",
        ]  # fmt: skip
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--dir", str(self.folder), *persistence, "--protected-mode", "yes",
        ]  # fmt: skip
        if self.password:
            command += ["--requirepass", self.password]
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "redis.log").open("ab") as sink:
            self.process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1
        self._wait_ready()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save; clients see connections reset and refused."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited: {(self.folder / 'redis.log').read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail(f"redis-server on port {self.port} not ready after {READY_TIMEOUT}s")


def require_redis_binary() -> None:
    if shutil.which("redis-server") is None:
        if services_required():
            pytest.fail("redis-server is not installed; CI requires it", pytrace=False)
        pytest.skip("redis-server is not installed")


@contextlib.contextmanager
def own_redis(
    folder: Path, *, persistent: bool = False, password: str = ""
) -> Iterator[RedisServer]:
    """A private Redis server, stopped (SIGKILL to its group) whatever happens."""
    require_redis_binary()
    server = RedisServer(folder, persistent=persistent, password=password)
    try:
        server.start()
        yield server
    finally:
        server.kill()


@contextlib.contextmanager
def rel_worker(
    settings: Settings,
    folder: Path,
    *,
    concurrency: int = 4,
    queue: str | None = None,
    visibility: float | None = None,
) -> Iterator[Worker]:
    """A worker running ``tests.reliability.app``; effects in ``folder/effects.db``."""
    env = {"REL_EFFECTS_DB": str(folder / "effects.db")}
    if visibility is not None:
        env["REL_VISIBILITY"] = str(visibility)
    state = "sqlite:///" + str(folder / "handlers.db")
    with start_worker(
        settings, folder / "out", state, concurrency=concurrency, queue=queue,
        app_module="tests.reliability.app", extra_env=env,
    ) as worker:  # fmt: skip
        yield worker


def state_url(folder: Path) -> str:
    return "sqlite:///" + str(folder / "handlers.db")


@pytest.fixture(scope="session")
def report() -> Iterator[Report]:
    collected = Report()
    yield collected
    if collected.cases:
        collected.write()


__all__ = [
    "RELIABILITY_DB",
    "RedisServer",
    "free_port",
    "own_redis",
    "rel_worker",
    "state_url",
    "worker_settings",
]
