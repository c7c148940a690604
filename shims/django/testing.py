"""``ParityRunner``: the monolith's own Django test suite, run against the function path.

    STRANGLER_TEST_DATABASE=/tmp/shop-test.sqlite3 \\
        python manage.py test --testrunner shims.django.testing.ParityRunner \\
        [--parity-report parity.json] [--parity-timeout 30]

with the feature routed to ``function`` (or a canary) and a Celery worker started with
``STRANGLER_PARITY_WORKER=1`` whose settings point at that same test database. What it
changes, and why each is needed for a worker in another process to take part in a test:

* **a shared test database**: SQLite's default test database lives in the test process's
  memory. ``STRANGLER_TEST_DATABASE`` names a file for the default alias (or set
  ``DATABASES["default"]["TEST"]["NAME"]``); an in-memory test database is refused with
  a one-line error. Tests run one at a time (``--parallel`` is set to 1).
* **committed test data**: a ``TestCase`` runs each test in a transaction it rolls back,
  invisible to the worker, and its ``on_commit`` callbacks (where a fire-and-forget call
  publishes) never run. For the run, ``TestCase`` uses Django's own mode for databases
  without transactions: each test commits and the tables are flushed after it, as in a
  ``TransactionTestCase`` (``setUpTestData`` then runs before every test).
* **parity mode** (``shims.parity``): calls wait for their handler, the handler's mail
  lands in ``mail.outbox``, ``override_settings`` travels with the event.

At the end it prints, per feature, how many calls the worker answered, how many fell back
to the monolith and why, and how many failed; ``--parity-report`` writes the same as JSON.
A call that fell back passed its test on the monolith's body, not the function's: such
calls (and failed ones) count as failures, so the run exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management import CommandError
from django.db import connections
from django.test.runner import DiscoverRunner

from shims import parity

__all__ = ["DATABASE_ENV", "ParityRunner", "parity_problems", "render_report"]

DATABASE_ENV = "STRANGLER_TEST_DATABASE"


class ParityRunner(DiscoverRunner):  # type: ignore[misc]  # no django-stubs
    """A ``DiscoverRunner`` whose tests share their database and effects with a worker."""

    def __init__(
        self,
        *args: Any,
        parity_report: str | None = None,
        parity_timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.parity_report = parity_report
        self.parity_timeout = parity_timeout
        self._restore: Callable[[], None] | None = None
        if int(getattr(self, "parallel", 1)) > 1:
            sys.stderr.write("parity: tests run one at a time (--parallel 1)\n")
            self.parallel = 1

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--parity-report", metavar="FILE", help="write the parity report as JSON to FILE"
        )
        parser.add_argument(
            "--parity-timeout",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="how long a call waits for its handler (default 30)",
        )

    def setup_test_environment(self, **kwargs: Any) -> None:
        use_test_database(os.environ.get(DATABASE_ENV))
        super().setup_test_environment(**kwargs)
        self._restore = commit_test_cases()
        parity.enable(self.parity_timeout)

    def suite_result(self, suite: Any, result: Any, **kwargs: Any) -> int:
        """Failed tests plus function-path calls that fell back or failed: a test that
        passed on the monolith's body did not show parity, so the run must not pass."""
        failures = int(super().suite_result(suite, result, **kwargs))
        return failures + parity_problems(parity.report.as_dict())

    def teardown_test_environment(self, **kwargs: Any) -> None:
        parity.disable()
        if self._restore is not None:
            self._restore()
            self._restore = None
        super().teardown_test_environment(**kwargs)
        summary = parity.report.as_dict()
        sys.stderr.write(render_report(summary))
        if self.parity_report:
            Path(self.parity_report).write_text(json.dumps(summary, indent=2) + "\n", "utf-8")


def use_test_database(path: str | None) -> None:
    """Point the default alias's test database at ``path``; refuse an in-memory one.

    Every SQLite alias must have a file the worker can open; other engines create a
    ``test_<name>`` database on their server, which a worker can reach by that name.
    """
    if path:
        connections["default"].settings_dict.setdefault("TEST", {})["NAME"] = path
    for alias in connections:
        conn = connections[alias]
        if conn.vendor != "sqlite":
            continue
        name = conn.creation._get_test_db_name()
        if conn.creation.is_in_memory_db(name):
            raise CommandError(
                f"parity: the {alias!r} test database is in memory, where the worker cannot "
                f"see it: set {DATABASE_ENV} or DATABASES[{alias!r}]['TEST']['NAME'] to a file"
            )


def commit_test_cases() -> Callable[[], None]:
    """Make ``TestCase`` commit (Django's mode for databases without transactions).

    Returns the function that puts it back. ``TestCase`` asks
    ``_databases_support_transactions()`` before wrapping tests in a transaction; when it
    says no, each test commits and ``TransactionTestCase``'s flush cleans up.
    """
    from django.test import TestCase

    original = TestCase.__dict__["_databases_support_transactions"]
    TestCase._databases_support_transactions = classmethod(lambda cls: False)

    def restore() -> None:
        TestCase._databases_support_transactions = original

    return restore


def parity_problems(summary: dict[str, Any]) -> int:
    """How many function-path calls fell back to the monolith or failed."""
    return sum(
        sum(item["fell_back"].values()) + sum(item["failed"].values())
        for item in summary["features"].values()
    )


def render_report(summary: dict[str, Any]) -> str:
    """The report as lines for stderr: one per feature, then each fallback/failure reason."""
    lines = ["parity report (function path, this run):"]
    features = summary["features"]
    if not features:
        lines.append("  no call took the function path: is the feature routed to it?")
    for name, item in features.items():
        fell = sum(item["fell_back"].values())
        failed = sum(item["failed"].values())
        lines.append(
            f"  {name}: {item['answered_by_function']} answered by the function, "
            f"{fell} fell back to the monolith, {failed} failed"
        )
        for kind in ("fell_back", "failed"):
            for reason, count in item[kind].items():
                lines.append(f"    {kind.replace('_', ' ')} x{count}: {reason}")
    if summary["settings_not_sent"]:
        lines.append(f"  settings not sent (not JSON): {', '.join(summary['settings_not_sent'])}")
    return "\n".join(lines) + "\n"
