"""The use cases' business rules as values: the retire gate and the uncommitted-files
rule (the CLI only maps these results to messages and exit codes)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from shims.routing import Mode, Route
from shims.stores import open_store
from strangler.codemods import Change
from strangler.extract import (
    Invalid,
    Refused,
    Written,
    retire_gate,
    target_conflict,
    write_changes,
)


def _git(folder: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def test_write_changes_refuses_uncommitted_files_unless_forced(repo: Path) -> None:
    (repo / "app.py").write_text("x = 2\n")
    change = Change("app.py", "x = 2\n", "x = 3\n")
    refused = write_changes(repo, [change], force=False)
    assert isinstance(refused, Refused)
    assert "uncommitted changes in app.py" in refused.reasons[0]
    assert (repo / "app.py").read_text() == "x = 2\n"
    forced = write_changes(repo, [change], force=True)
    assert forced == Written(("app.py",))
    assert (repo / "app.py").read_text() == "x = 3\n"


def test_write_changes_writes_clean_files_and_new_ones(repo: Path) -> None:
    changes = [Change("app.py", "x = 1\n", "x = 4\n"), Change("new/mod.py", None, "y = 1\n")]
    assert write_changes(repo, changes, force=False) == Written(("app.py", "new/mod.py"))
    assert (repo / "new/mod.py").read_text() == "y = 1\n"


def test_write_changes_refuses_a_stale_file(repo: Path) -> None:
    refused = write_changes(repo, [Change("app.py", "x = 9\n", "x = 3\n")], force=True)
    assert isinstance(refused, Refused)
    assert (repo / "app.py").read_text() == "x = 1\n"


def test_retire_gate_needs_the_route_at_function(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/routes.db"
    unset = retire_gate("shop.f", url)
    assert isinstance(unset, Refused)
    assert "shop.f routes to unset (monolith)" in unset.reasons[0]
    store = open_store(url)
    store.set(Route("shop.f", Mode.CANARY, 50), actor="test")
    canary = retire_gate("shop.f", url)
    assert isinstance(canary, Refused)
    assert "canary 50%" in canary.reasons[0]
    store.set(Route("shop.f", Mode.FUNCTION), actor="test")
    store.close()
    assert retire_gate("shop.f", url) is None


def test_retire_gate_with_a_bad_store_url_is_invalid_input() -> None:
    result = retire_gate("shop.f", "nosuchscheme://x")
    assert isinstance(result, Invalid)
    assert "nosuchscheme" in result.reason


def test_a_target_may_not_take_the_place_of_the_projects_code(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "images.py").write_text("x = 1\n")
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "__init__.py").write_text(
        '"""Capabilities extracted from the monolith by strangler, one package each."""\n'
    )
    shadow = target_conflict(tmp_path, "shop.images")
    assert shadow is not None
    assert "shadow the project's module shop.images" in shadow
    own = target_conflict(tmp_path, "shop")
    assert own is not None
    assert "the project's own package shop" in own
    assert target_conflict(tmp_path, "functions") is None  # strangler's own, made before
    assert target_conflict(tmp_path, "shop.functions") is None  # a new folder in a package
