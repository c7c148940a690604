"""Case 8: no pickle anywhere, analysed code never imported, secrets masked.

* The packages never import a pickle-family module, every Celery configuration that
  would accept or produce pickle is refused, and a real worker sent a pickled message
  whose unpickling would create a file refuses it (the file never appears).
* ``strangler analyze`` on a project whose modules write a file when imported: the
  files never appear and the modules never enter ``sys.modules``.
* A password in a store or broker URL never reaches CLI output or the logs.
"""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from click.testing import CliRunner

from shims.celery import UnsafeSerializerError, build_app
from shims.config import Settings
from shims.dispatch import breakers, publisher, routed
from shims.handlers import handler
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime
from strangler.cli import main
from tests.integration.conftest import Worker, flush_redis
from tests.reliability.conftest import RELIABILITY_DB, free_port, rel_worker, worker_settings
from tests.reliability.report import Report

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("analyzers", "shims", "strangler")
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "jsonpickle"}
SECRET = "pa55-w0rd-never-shown"


def pickle_imports() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    if name.split(".")[0] in PICKLE_MODULES:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


UNSAFE_CONFIGS: list[dict[str, Any]] = [
    {"accept_content": ["json", "pickle"]},
    {"accept_content": ["application/x-python-serialize"]},
    {"result_accept_content": ["pickle"]},
    {"task_serializer": "pickle"},
    {"result_serializer": "pickle"},
    {"event_serializer": "pickle"},
]


def test_no_pickle_in_the_packages_and_the_configuration_refuses_it(report: Report) -> None:
    assert pickle_imports() == []
    refused = 0
    for overrides in UNSAFE_CONFIGS:
        with pytest.raises(UnsafeSerializerError):
            build_app(Settings(), **overrides)
        unsafe = Celery("unsafe", set_as_current=False)
        unsafe.conf.update(overrides)
        with pytest.raises(UnsafeSerializerError):
            handler(unsafe, "rel.never")
        with pytest.raises(UnsafeSerializerError):
            publisher.use_app(unsafe)
        unsafe.close()
        refused += 3
    report.add(
        "8a. no pickle",
        "no pickle import in the packages; pickle configurations refused",
        pickle_imports=0, unsafe_configs_refused=refused,
    )  # fmt: skip


class _Evil:
    """Unpickling this creates ``path``: the proof that something unpickled it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Path.touch, (self.path,))


@pytest.fixture
def worker(redis_server: str, tmp_path: Path) -> Iterator[Worker]:
    url = f"{redis_server}/{RELIABILITY_DB}"
    flush_redis(url)
    with rel_worker(worker_settings(url, url, tmp_path), tmp_path, concurrency=1) as running:
        yield running


@pytest.mark.redis
@pytest.mark.worker
def test_a_real_worker_refuses_a_pickled_message(
    worker: Worker, tmp_path: Path, report: Report
) -> None:
    marker = tmp_path / "unpickled"
    attacker = Celery("attacker", broker=worker.env["STRANGLER_BROKER_URL"], set_as_current=False)
    attacker.conf.update(task_serializer="pickle", accept_content=["pickle"])
    try:
        attacker.send_task(
            "rel.apply", args=[_Evil(marker)], queue=worker.queue, serializer="pickle"
        )
    finally:
        attacker.close()
    assert worker.app.send_task("it.ping").get(timeout=30) == "pong"  # consumed after it
    time.sleep(0.5)
    assert not marker.exists()
    assert "untrusted content" in worker.log.read_text()
    report.add(
        "8b. pickled message to a real worker",
        "refused by the worker, never unpickled",
        unpickled=marker.exists(),
    )  # fmt: skip


TARGET = {
    "__init__.py": "",
    "boom.py": "open({marker!r} + '/boom', 'w').write('imported')\n"
    "def handler(order_id):\n    return order_id\n",
    "settings.py": "open({marker!r} + '/settings', 'w').write('imported')\n",
    "manage.py": "import os\nos.system('touch ' + {marker!r} + '/manage')\n",
    "conftest.py": "open({marker!r} + '/conftest', 'w').write('imported')\n",
    "views.py": "from boom import handler\n"
    "def view(request):\n    return handler(request.GET['id'])\n",
}


def test_the_analyzer_never_imports_or_runs_target_code(tmp_path: Path, report: Report) -> None:
    project, markers = tmp_path / "evilproject", tmp_path / "markers"
    project.mkdir()
    markers.mkdir()
    for name, body in TARGET.items():
        (project / name).write_text(body.format(marker=str(markers)))
    before = set(sys.modules)
    result = CliRunner().invoke(main, ["analyze", str(project), "--format", "json", "--no-cache"])
    assert result.exit_code == 0, result.output
    child = subprocess.run(
        [str(Path(sys.executable).parent / "strangler"), "analyze", str(project), "--no-cache"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    assert list(markers.iterdir()) == []
    new = set(sys.modules) - before
    assert not {"boom", "views", "settings", "manage", "conftest", "evilproject"} & new
    report.add(
        "8c. analyzer never imports target code",
        "modules that write a file on import are analysed; no file appears",
        target_modules=len(TARGET), files_written=0,
    )  # fmt: skip


@routed("rel.secret.apply", task="rel.apply")
def secret_apply(n: int) -> None:
    """The monolith path: taken as the fallback when the (unreachable) broker fails."""


def test_secrets_in_store_and_broker_urls_are_masked(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    report: Report,
) -> None:  # fmt: skip
    dead = free_port()
    redis_url = f"redis://:{SECRET}@127.0.0.1:{dead}/0"
    amqp_url = f"amqp://guest:{SECRET}@127.0.0.1:{dead}//"
    monkeypatch.chdir(tmp_path)
    commands = [
        ["route", "list", "--store", redis_url],
        ["route", "status", "--store", redis_url],
        ["route", "set", "rel.x", "function", "--store", redis_url],
        ["dlq", "list", "--url", redis_url],
    ]
    outputs = []
    for args in commands:
        result = CliRunner().invoke(main, args)
        outputs.append(result.output)
        assert result.exit_code != 0, result.output
        assert SECRET not in result.output
        assert "****" in result.output, result.output

    caplog.set_level(logging.DEBUG)
    for broker in (redis_url, amqp_url):
        configure(
            route_store_url="memory://", route_ttl=0, broker_url=broker, result_backend=redis_url
        )
        get_runtime().store.set(Route("rel.secret.apply", Mode.FUNCTION), actor="test")
        breakers.clear()
        try:
            secret_apply(1)  # publish fails, the monolith answers
            secret_apply(2)
        finally:
            publisher.reset()
            reset_runtime()
    assert SECRET not in caplog.text
    assert "falling back" in caplog.text
    report.add(
        "8d. secrets masked",
        "passwords in store/broker URLs never in CLI output or logs",
        cli_commands=len(commands), brokers=2, secret_seen=0,
    )  # fmt: skip


def test_a_worker_given_a_split_prone_broker_password_shows_it_masked(tmp_path: Path) -> None:
    """kombu read ``amqp://u:pa55/...@h//`` as port ``pa55`` and the worker printed
    ``Port could not be cast to integer value as 'pa55'``; ``build_app`` refuses it first."""
    head, tail = SECRET[:4], SECRET[5:]
    broker = f"amqp://guest:{head}/{tail}@127.0.0.1//"
    env = {
        **os.environ,
        "STRANGLER_BROKER_URL": broker, "STRANGLER_ROUTE_STORE": "memory://",
        "STRANGLER_BROKER_FOLDER": str(tmp_path / "broker"),
        "STRANGLER_RESULT_BACKEND": f"file://{tmp_path}/results", "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "tests.reliability.app", "worker",
         "--pool=solo", "-Q", "never", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-2000:]
    assert "bad broker URL 'amqp://guest:****@127.0.0.1//'" in output, output[-2000:]
    assert head not in output
    assert tail not in output
    assert "Port could not be cast" not in output
