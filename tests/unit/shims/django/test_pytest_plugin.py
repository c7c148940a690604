"""``shims.django.pytest_plugin``: parity mode for suites that run on pytest-django.

A tiny Django project in a temporary folder, run by pytest in a subprocess: with
``--parity`` a ``django_db`` test's row is committed to the test database file, where
another connection (a worker's, in real use) reads it, and the tables are flushed
between tests; without it the same test fails, since nothing outside the test's
transaction can see the row. The worker side is covered by tests/e2e.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[4]

SETTINGS = """
SECRET_KEY = "parity-plugin-test"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "dev.sqlite3"}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

TESTS = """
import os
import sqlite3

import pytest
from django.contrib.auth.models import Group


@pytest.mark.django_db
def test_a_row_is_committed_where_another_connection_reads_it():
    Group.objects.create(name="visible")
    other = sqlite3.connect(os.environ["STRANGLER_TEST_DATABASE"])
    try:
        names = [row[0] for row in other.execute("SELECT name FROM auth_group")]
    finally:
        other.close()
    assert names == ["visible"]


@pytest.mark.django_db
def test_the_tables_are_flushed_between_tests():
    assert not Group.objects.exists()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "parity_settings.py").write_text(SETTINGS)
    (tmp_path / "test_commits.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = parity_settings\n")
    return tmp_path


def run(project: Path, *args: str, database: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(project), str(ROOT)])
    env.pop("STRANGLER_TEST_DATABASE", None)
    if database:
        env["STRANGLER_TEST_DATABASE"] = str(project / "parity-test.sqlite3")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p"]
    command += ["shims.django.pytest_plugin", "-q", *args]
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_with_parity_the_tests_commit_to_the_shared_file(project: Path) -> None:
    done = run(project, "--parity", "--parity-report", "report.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert "no call took the function path" in done.stdout  # the report, printed
    assert (project / "report.json").read_text().startswith("{")


def test_without_parity_the_same_row_is_invisible_outside_the_test(project: Path) -> None:
    done = run(project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout


def test_parity_refuses_an_in_memory_test_database_in_one_line(project: Path) -> None:
    done = run(project, "--parity", database=False)
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    assert "in memory, where the worker cannot see it" in done.stderr
