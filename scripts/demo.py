"""`make demo`: the whole strangler-fig lifecycle on a scratch copy of demo_monolith.

analyze -> extract the top capability (--apply) -> parity: the monolith's own test
suite with the feature at function and a worker answering -> start a Celery worker on
the filesystem transport -> drive traffic at monolith, shadow, canary 25 and function ->
per-path counts from `strangler route status` -> retire. Embedded defaults only: the
broker is Celery's filesystem transport and the route store a SQLite file, both under
the scratch copy (``.demo/`` at the repository root, gitignored), so no server is needed.

Every step runs the real command a user would run (the ``strangler`` CLI as a
subprocess, a real ``celery worker`` process); traffic goes through the Django test
client in this process, logged in as several users so calls carry different routing
keys (``shims.django.middleware.RoutingKeyMiddleware``). Exits non-zero, with the step
that failed, when anything does not work; the worker is always stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "demo_monolith"
PYTHON = sys.executable
STAFF_USERS = 8  # staff who upload images: distinct routing keys for the canary
WORKER_READY_TIMEOUT = 60.0


class StepFailed(RuntimeError):
    """A lifecycle step did not do what it should: the demo stops with this message."""


def say(text: str) -> None:
    print(text, flush=True)


def step(number: int, text: str) -> None:
    say(f"\n== {number}. {text}")


def run(*args: str, env: dict[str, str], show: int = 0, check: bool = True) -> str:
    """Run a command; print its last ``show`` lines; fail the step on a non-zero exit."""
    say(f"$ {' '.join(_short(a) for a in args)}")
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if show:
        for line in done.stdout.rstrip().splitlines()[:show]:
            say(f"  {line}")
    if check and done.returncode != 0:
        raise StepFailed(f"{' '.join(args[:3])} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def _short(arg: str) -> str:
    return arg.replace(str(REPO) + "/", "").replace(str(Path(PYTHON).parent) + "/", "")


def strangler(*args: str, env: dict[str, str], show: int = 0, check: bool = True) -> str:
    return run(str(Path(PYTHON).parent / "strangler"), *args, env=env, show=show, check=check)


# ------------------------------------------------------------------------------ setup


def scratch_copy(folder: Path) -> None:
    """A fresh copy of demo_monolith in its own git repository (extract --apply refuses
    to overwrite uncommitted work, as it would in a real project)."""
    if folder.exists():
        shutil.rmtree(folder)
    ignore = shutil.ignore_patterns("__pycache__", ".strangler", "db.sqlite3", "media")
    shutil.copytree(SOURCE, folder, ignore=ignore)
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "the monolith before strangler")


def git(folder: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "demo",
        "GIT_AUTHOR_EMAIL": "demo@example.invalid",
        "GIT_COMMITTER_NAME": "demo",
        "GIT_COMMITTER_EMAIL": "demo@example.invalid",
    }
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


def environment(scratch: Path) -> dict[str, str]:
    """The embedded default, pinned to the scratch copy for every process."""
    state = scratch / ".strangler"
    env = {
        **os.environ,
        "STRANGLER_ROUTE_STORE": f"sqlite:///{state}/routes.db",
        "STRANGLER_BROKER_URL": "filesystem://",
        "STRANGLER_BROKER_FOLDER": str(state / "broker"),
        "STRANGLER_RESULT_BACKEND": f"file://{state}/results",
        "STRANGLER_DEDUPE_URL": f"sqlite:///{state}/dedupe.db",
        "STRANGLER_DLQ_URL": f"sqlite:///{state}/deadletters.db",
        "STRANGLER_METRICS_FLUSH_INTERVAL": "0.5",
        "DJANGO_SETTINGS_MODULE": "shop.settings",
        "SHOP_DB_PATH": str(scratch / "db.sqlite3"),
        "SHOP_MEDIA_ROOT": str(scratch / "media"),
        "SHOP_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONPATH": os.pathsep.join([str(scratch), str(REPO)]),
    }
    env.pop("CI", None)
    return env


@contextlib.contextmanager
def worker(
    scratch: Path, package: str, env: dict[str, str], log_name: str = "worker.log"
) -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A <package>.celery worker`` in its own process group, stopped at exit."""
    log = scratch / ".strangler" / log_name
    log.parent.mkdir(parents=True, exist_ok=True)
    args = [PYTHON, "-m", "celery", "-A", f"{package}.celery", "worker"]
    args += ["--pool", "threads", "--concurrency", "2", "--loglevel", "INFO"]
    say(f"$ celery -A {package}.celery worker --pool threads --concurrency 2")
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, cwd=scratch, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(process, log)
        say(f"  worker ready (pid {process.pid}, log {_short(str(log))})")
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        say("  worker stopped")


def _wait_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WORKER_READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StepFailed(f"the worker exited ({process.returncode}):\n{_tail(log)}")
        if " ready." in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise StepFailed(f"the worker was not ready within {WORKER_READY_TIMEOUT:.0f}s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""


# ---------------------------------------------------------------------------- traffic


class Traffic:
    """Customer journeys and staff image uploads through the Django test client, in
    this process, on the scratch copy's SQLite file (which the worker shares)."""

    def __init__(self, scratch: Path, env: dict[str, str]) -> None:
        os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
        sys.path[:0] = [str(scratch), str(REPO)]
        import django

        django.setup()
        from django.core.management import call_command
        from django.test.utils import setup_test_environment

        setup_test_environment()  # 'testserver' allowed, locmem mail
        call_command("migrate", interactive=False, verbosity=0)
        self.driver = _load_traffic().Driver(_traffic_args(), _load_traffic().Summary())
        self.staff = self._staff_clients()

    def _staff_clients(self) -> list[tuple[str, Any]]:
        from django.contrib.auth import get_user_model
        from django.test import Client

        users = get_user_model()
        clients = []
        for n in range(STAFF_USERS):
            user, _ = users.objects.get_or_create(
                username=f"demo-staff-{n}", defaults={"is_staff": True}
            )
            client = Client(raise_request_exception=False)
            client.force_login(user)
            clients.append((str(user.pk), client))
        return clients

    def drive(self, rounds: int, *, staff_actions: bool = False) -> dict[str, int]:
        """``rounds`` customer journeys and one image upload per staff user per round;
        ``staff_actions`` adds traffic.py's staff round (ship an order, the reports)."""
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.urls import reverse
        from PIL import Image

        statuses: dict[str, int] = {}
        for n in range(rounds):
            self.driver.journey(n)
            for key, client in self.staff:
                buf = io.BytesIO()
                Image.new("RGB", (96, 64), (n * 40 % 256, 90, 40)).save(buf, format="PNG")
                upload = SimpleUploadedFile("photo.png", buf.getvalue(), content_type="image/png")
                slug = self.driver.slugs[(n + int(key)) % len(self.driver.slugs)]
                path = reverse("catalog:upload_image", args=[slug])
                response = self.driver.request(key, client, "post", path, data={"image": upload})
                code = str(response.status_code)
                statuses[code] = statuses.get(code, 0) + 1
            if staff_actions:
                self.driver.staff_actions()
        errors = self.driver.summary.server_errors
        if errors:
            raise StepFailed(f"{errors} requests answered 5xx")
        return statuses

    @staticmethod
    def flush_metrics() -> None:
        from shims.runtime import get_runtime

        get_runtime().metrics.flush()


def _load_traffic() -> Any:
    """scripts/traffic.py is a script, not a package: load it by path (once)."""
    name = "demo_traffic"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "traffic.py")
        if spec is None or spec.loader is None:
            raise StepFailed("scripts/traffic.py cannot be loaded")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _traffic_args() -> argparse.Namespace:
    return argparse.Namespace(users=6, seed=7, decline_rate=0.0, staff_every=1_000_000)


# ---------------------------------------------------------------------------- the demo


def status(env: dict[str, str], feature: str) -> dict[str, dict[str, Any]]:
    """Per-path counters of ``feature`` from `strangler route status --format json`."""
    out = strangler("route", "status", "--format", "json", env=env)
    for item in json.loads(out)["features"]:
        if item["feature"] == feature:
            return {p["path"]: p for p in item.get("paths", [])}
    return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the strangler lifecycle on demo_monolith")
    parser.add_argument(
        "--scratch",
        type=Path,
        default=REPO / ".demo" / "shop",
        help="where the scratch copy goes (replaced on every run; default .demo/shop)",
    )
    scratch = parser.parse_args(argv).scratch.resolve()
    started = time.monotonic()
    env = environment(scratch)
    try:
        lifecycle(scratch, env)
    except StepFailed as exc:
        say(f"\nDEMO FAILED: {exc}")
        return 1
    elapsed = time.monotonic() - started
    say(f"\ndemo finished in {elapsed:.0f}s (scratch copy: {_short(str(scratch))})")
    return 0


def lifecycle(scratch: Path, env: dict[str, str]) -> None:
    step(1, "a scratch copy of demo_monolith, in its own git repository")
    scratch_copy(scratch)
    say(f"  {_short(str(scratch))}")

    step(2, "analyze: rank what to extract (static analysis; nothing is imported or run)")
    strangler("analyze", str(scratch), "--top", "5", env=env, show=16)
    ranked = json.loads(strangler("analyze", str(scratch), "--format", "json", env=env))
    top = ranked["capabilities"][0]["name"]
    say(f"  top capability: {top}")

    step(3, f"extract {top}: the plan, then --apply")
    strangler("extract", str(scratch), top, "--plan", env=env, show=20)
    plan = json.loads(
        strangler("extract", str(scratch), top, "--plan", "--format", "json", env=env)
    )
    feature, package = plan["entry_points"][0]["feature"], plan["package"]
    strangler("extract", str(scratch), top, "--apply", env=env, show=12)  # + shim settings
    again = strangler("extract", str(scratch), top, env=env)
    if again.strip():
        raise StepFailed("extract is not idempotent: a second run still has a diff")
    say("  a second dry run: no diff (idempotent)")
    git(scratch, "add", "-A")
    git(scratch, "commit", "-q", "-m", f"strangler extract {top}")

    step(4, f"parity: demo_monolith's own test suite with {feature} at function")
    parity(scratch, package, feature, env)

    step(5, "start a Celery worker on the filesystem transport (no server)")
    with worker(scratch, package, env):
        traffic = Traffic(scratch, env)
        modes = (["monolith"], ["shadow"], ["canary", "--percent", "25"], ["function"])
        for number, mode in enumerate(modes, start=6):
            step(number, f"route {feature} -> {' '.join(mode)}, then drive traffic")
            strangler("route", "set", feature, *mode, "--reason", "demo", env=env, show=1)
            time.sleep(1.2)  # the route table's TTL: the running monolith sees it within 1s
            statuses = traffic.drive(rounds=3)
            say(f"  {sum(statuses.values())} image uploads answered {statuses}")
        traffic.flush_metrics()
        _wait_for_function_path(env, feature)

    step(10, f"strangler route status: calls per path for {feature}")
    strangler("route", "status", env=env, show=12)
    paths = status(env, feature)
    function = paths.get("function", {})
    if not function.get("calls"):
        raise StepFailed(f"no call of {feature} reached the function path")
    if function.get("errors"):
        raise StepFailed(f"{function['errors']} calls of {feature} failed on the function path")

    step(11, f"retire {feature}: the monolith body becomes a dispatch-only call")
    strangler("retire", str(scratch), feature, env=env, show=40)
    strangler("retire", str(scratch), feature, "--apply", env=env, show=4)
    if strangler("retire", str(scratch), feature, env=env).strip():
        raise StepFailed("retire is not idempotent: a second run still has a diff")
    say("  a second dry run: no diff")


def parity(scratch: Path, package: str, feature: str, env: dict[str, str]) -> None:
    """The monolith's unchanged suite, its calls of ``feature`` answered by a worker.

    ``shims.django.testing.ParityRunner`` with a worker started for tests (the test
    database, parity events allowed); docs/extract.md "Parity testing". Fails the step
    unless every test passes and the worker answered every call of the feature.
    """
    state = scratch / ".strangler"
    test_db, report = state / "parity-test.sqlite3", state / "parity.json"
    # A test environment of its own: its route store (the demo's counts stay the
    # traffic's), its database; the same broker and handler code.
    env = {**env, "STRANGLER_ROUTE_STORE": f"sqlite:///{state}/parity-routes.db"}
    worker_env = {**env, "STRANGLER_PARITY_WORKER": "1", "SHOP_DB_PATH": str(test_db)}
    labels = sorted(p.name for p in scratch.iterdir() if (p / "tests.py").is_file())
    with worker(scratch, package, worker_env, log_name="parity-worker.log"):
        strangler("route", "set", feature, "function", "--reason", "parity", env=env, show=1)
        args = [PYTHON, "-W", "error", "manage.py", "test", "--noinput"]
        args += ["--testrunner", "shims.django.testing.ParityRunner"]
        args += ["--parity-report", str(report), *labels, "functions"]
        say(f"$ STRANGLER_TEST_DATABASE={_short(str(test_db))} manage.py test --testrunner "
            "shims.django.testing.ParityRunner ...")  # fmt: skip
        done = subprocess.run(
            args,
            cwd=scratch,
            env={**env, "STRANGLER_TEST_DATABASE": str(test_db)},
            capture_output=True,
            text=True,
            check=False,
        )
        lines = done.stderr.strip().splitlines()
        for line in [ln for ln in lines if ln.startswith(("Ran ", "OK", "FAILED"))] + lines[-2:]:
            say(f"  {line}")
        if done.returncode != 0:
            raise StepFailed(f"the monolith's suite failed at function:\n{done.stderr[-3000:]}")
    item = json.loads(report.read_text())["features"].get(feature, {})
    if not item.get("answered_by_function") or item.get("fell_back") or item.get("failed"):
        raise StepFailed(f"the worker did not answer every call of {feature}: {item}")


def _wait_for_function_path(env: dict[str, str], feature: str, timeout: float = 60.0) -> None:
    """Let the worker finish the queued events (fire-and-forget returns at once).

    A minute, not less: on a loaded two-core machine (CI running the rest of the
    suite beside the demo) rendering the queued thumbnails once took more than 20 s;
    events still queued after a minute are stuck, not slow."""
    deadline = time.monotonic() + timeout
    folder = Path(env["STRANGLER_BROKER_FOLDER"]) / "queue"

    def pending() -> int:  # queued, or taken by the worker and not acknowledged yet
        return len([*folder.glob("*.msg"), *folder.glob(".inflight/*/*.msg")])

    while time.monotonic() < deadline:
        if not pending():
            return
        time.sleep(0.2)
    left = pending()
    raise StepFailed(f"the worker left {left} events of {feature} in {folder} after {timeout:.0f}s")


if __name__ == "__main__":
    sys.exit(main())
