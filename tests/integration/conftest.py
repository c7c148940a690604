"""Real Celery workers for the dispatch integration tests.

``start_worker`` launches ``python -m celery -A tests.integration.app.worker worker`` as a
subprocess in its own process group, on a queue unique to the test module, waits until
it answers a ping task (bounded), and kills the whole group at teardown. No eager mode,
no in-process fake: messages go through the real broker.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shims.celery import build_app, close_app
from shims.config import Settings
from tests.conftest import REDIS_DBS

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0
# this suite's Redis database (broker, results, dedupe, dead letters): see tests/conftest.py
REDIS_DB = REDIS_DBS["integration"]


@dataclass
class Worker:
    """A running worker and the client app that talks to it (same broker, same queue)."""

    process: subprocess.Popen[bytes]
    app: Any
    queue: str
    out: Path
    env: dict[str, str]
    log: Path
    command: list[str] = field(default_factory=list)
    restarts: int = 0

    def effects(self, name: str) -> list[str]:
        path = self.out / f"{name}.log"
        return path.read_text().split() if path.exists() else []

    def wait_for_effects(self, name: str, count: int, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.effects(name)
            if len(lines) >= count:
                return lines
            time.sleep(0.05)
        return self.effects(name)

    def log_tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""

    def ensure_running(self) -> bool:
        """Start the worker again if it exited, as a process supervisor would.

        Returns True when it had to (counted in ``restarts``). The new process runs the
        same command on the same queue and appends to the same log.
        """
        if self.process.poll() is None:
            return False
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=sink, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.restarts += 1
        return True


def worker_settings(broker_url: str, result_backend: str, folder: Path) -> Settings:
    return Settings(
        route_store_url="memory://",
        broker_url=broker_url,
        broker_folder=str(folder / "broker"),
        result_backend=result_backend,
    )


@contextlib.contextmanager
def start_worker(
    settings: Settings,
    out: Path,
    state_url: str,
    *,
    concurrency: int = 2,
    queue: str | None = None,
    app_module: str = "tests.integration.app.worker",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Worker]:
    queue = queue or f"it-{uuid.uuid4().hex[:8]}"
    out.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "STRANGLER_BROKER_URL": settings.broker_url,
        "STRANGLER_BROKER_FOLDER": settings.broker_folder,
        "STRANGLER_RESULT_BACKEND": settings.result_backend,
        "STRANGLER_ROUTE_STORE": "memory://",
        "STRANGLER_DEDUPE_URL": state_url,
        "STRANGLER_DLQ_URL": state_url,
        "IT_OUT_DIR": str(out),
        "DJANGO_SETTINGS_MODULE": "tests.integration.app.settings",
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }
    log = out / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", app_module, "worker",
        "--pool=threads", f"--concurrency={concurrency}", "-Q", queue,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel=INFO", f"--hostname={queue}@%h",
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    app = build_app(settings, name="it-client", task_default_queue=queue)
    worker = Worker(process, app, queue, out, env, log, command)
    try:
        _wait_ready(worker)
        yield worker
    finally:
        _stop(worker.process)  # the one running now (ensure_running may have replaced it)
        close_app(app)


def _wait_ready(worker: Worker) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            pytest.fail(f"celery worker exited ({worker.process.returncode}):\n{worker.log_tail()}")
        try:
            if worker.app.send_task("it.ping").get(timeout=2, interval=0.05) == "pong":
                return
        except Exception:  # not consuming yet
            time.sleep(0.2)
    pytest.fail(f"celery worker not ready after {READY_TIMEOUT}s:\n{worker.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture(scope="module")
def redis_url(redis_server: str) -> str:
    url = f"{redis_server}/{REDIS_DB}"
    flush_redis(url)
    return url


@pytest.fixture(scope="module")
def redis_worker(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker on Redis (broker and results), dedupe and dead letters in Redis too."""
    out = tmp_path_factory.mktemp("redis-worker")
    settings = worker_settings(redis_url, redis_url, out)
    with start_worker(settings, out, redis_url) as worker:
        yield worker


@pytest.fixture
def shim(redis_worker: Worker) -> Iterator[Worker]:
    """The shim in this process publishing to ``redis_worker``; routes in memory."""
    from shims.dispatch import breakers, mismatches, publisher, shadow_pool
    from shims.runtime import configure, reset_runtime

    configure(route_store_url="memory://", route_ttl=0)
    publisher.use_app(redis_worker.app)
    breakers.clear()
    mismatches.clear()
    yield redis_worker
    shadow_pool.join(timeout=15)
    publisher.use_app(None)
    reset_runtime()
    gc.collect()  # a leaked connection shows up in the test that leaked it
