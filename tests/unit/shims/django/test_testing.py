"""``shims.django.testing``: the parity runner's pieces that need no worker.

The runner with a real worker and demo_monolith's own suite: tests/e2e/test_extract_demo.py.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError
from django.db import connections
from django.test import TestCase

from shims.django.testing import (
    commit_test_cases,
    parity_problems,
    render_report,
    use_test_database,
)


@pytest.fixture
def default_test_settings() -> Iterator[dict[str, object]]:
    """The default alias's TEST settings, restored after the test changes them."""
    settings_dict = connections["default"].settings_dict
    saved = copy.deepcopy(settings_dict.get("TEST", {}))
    yield settings_dict
    settings_dict["TEST"] = saved


def test_an_in_memory_sqlite_test_database_is_refused(
    default_test_settings: dict[str, object],
) -> None:
    default_test_settings["TEST"] = {"NAME": None}
    with pytest.raises(CommandError, match="in memory, where the worker cannot see it"):
        use_test_database(None)


def test_a_file_given_by_the_environment_becomes_the_test_database(
    default_test_settings: dict[str, object], tmp_path: Path
) -> None:
    path = str(tmp_path / "parity.sqlite3")
    use_test_database(path)
    assert connections["default"].creation._get_test_db_name() == path


def test_test_cases_commit_while_the_runner_runs_and_not_after() -> None:
    assert TestCase._databases_support_transactions() is True
    restore = commit_test_cases()
    try:
        assert TestCase._databases_support_transactions() is False
    finally:
        restore()
    assert TestCase._databases_support_transactions() is True


def test_the_report_names_fallbacks_and_failures_with_their_reasons() -> None:
    text = render_report(
        {
            "features": {
                "shipping.quote": {
                    "answered_by_function": 20,
                    "fell_back": {"TimeoutError: 5 s": 2},
                    "failed": {},
                }
            },
            "settings_not_sent": ["HOOK"],
        }
    )
    assert (
        "shipping.quote: 20 answered by the function, 2 fell back to the monolith, 0 failed" in text
    )
    assert "fell back x2: TimeoutError: 5 s" in text
    assert "settings not sent (not JSON): HOOK" in text
    assert "no call took the function path" in render_report(
        {"features": {}, "settings_not_sent": []}
    )


def test_calls_that_fell_back_or_failed_count_as_failures_of_the_run() -> None:
    item = {"answered_by_function": 4, "fell_back": {"TimeoutError": 2}, "failed": {"x": 1}}
    clean = {"answered_by_function": 4, "fell_back": {}, "failed": {}}
    assert parity_problems({"features": {"a": item, "b": clean}}) == 3
    assert parity_problems({"features": {"b": clean}}) == 0
