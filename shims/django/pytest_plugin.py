"""Parity testing with pytest-django: ``ParityRunner``'s pytest twin.

    STRANGLER_TEST_DATABASE=/tmp/shop-test.sqlite3 \\
        pytest -p shims.django.pytest_plugin --parity [--parity-report FILE] [--parity-timeout S]

The same three changes as ``shims.django.testing.ParityRunner`` (read its docstring and
docs/extract.md, "Parity testing"): the test database is a file the worker opens too,
tests marked ``django_db`` commit (pytest-django builds them on Django's ``TestCase``,
which runs in its commit-and-flush mode for the session), and parity mode is on. Without
``--parity`` the plugin only adds its options. Not with pytest-xdist: each xdist worker
gets a database of its own, which the Celery worker cannot know.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from shims import parity
from shims.django.testing import (
    DATABASE_ENV,
    commit_test_cases,
    parity_problems,
    render_report,
    use_test_database,
)

__all__ = [
    "pytest_addoption",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "pytest_unconfigure",
]

_RESTORE = pytest.StashKey[Callable[[], None]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("strangler", "strangler parity testing")
    group.addoption(
        "--parity",
        action="store_true",
        default=False,
        help="run the tests against the function path with a worker taking part",
    )
    group.addoption("--parity-report", metavar="FILE", help="write the parity report as JSON")
    group.addoption(
        "--parity-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a call waits for its handler (default 30)",
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """After pytest-django set Django up, before any test database exists."""
    config = session.config
    if not config.getoption("parity"):
        return
    if getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("--parity runs tests in one process: drop pytest-xdist's -n")
    try:
        use_test_database(os.environ.get(DATABASE_ENV))
    except Exception as exc:  # CommandError: the one-line reason
        raise pytest.UsageError(str(exc)) from exc
    config.stash[_RESTORE] = commit_test_cases()
    parity.enable(config.getoption("parity_timeout"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    config = terminalreporter.config
    if not config.getoption("parity"):
        return
    summary = parity.report.as_dict()
    terminalreporter.write(render_report(summary))
    target = config.getoption("parity_report")
    if target:
        Path(target).write_text(json.dumps(summary, indent=2) + "\n", "utf-8")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A call that fell back or failed fails the run, as in ``ParityRunner``."""
    report = parity.report.as_dict()
    if session.config.getoption("parity") and exitstatus == 0 and parity_problems(report):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    restore = config.stash.get(_RESTORE, None)
    if restore is not None:
        parity.disable()
        restore()
        del config.stash[_RESTORE]
