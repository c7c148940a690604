"""``shims.urls``: the SQLite URL helpers the stores and the read-only commands share."""

from __future__ import annotations

from pathlib import Path

import pytest

from shims.urls import sqlite_file_missing, sqlite_path


def test_sqlite_path_is_relative_or_absolute_and_a_bad_url_raises() -> None:
    assert sqlite_path("sqlite:///state/routes.db") == Path("state/routes.db")
    assert sqlite_path("sqlite:////var/lib/routes.db") == Path("/var/lib/routes.db")
    with pytest.raises(ValueError, match="bad SQLite URL"):
        sqlite_path("sqlite:///")
    with pytest.raises(ValueError, match="bad SQLite URL"):
        sqlite_path("redis://127.0.0.1:6379/0")


def test_a_missing_sqlite_file_is_told_apart_from_other_urls(tmp_path: Path) -> None:
    there = tmp_path / "routes.db"
    there.write_bytes(b"")
    assert sqlite_file_missing(f"sqlite:///{tmp_path / 'absent.db'}")
    assert not sqlite_file_missing(f"sqlite:///{there}")
    assert not sqlite_file_missing("redis://127.0.0.1:6379/0")  # not a file at all
    assert not sqlite_file_missing("sqlite:///")  # bad: opening it says so
    assert not (tmp_path / "absent.db").exists()  # asking created nothing
