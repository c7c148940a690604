"""diff / apply / dirty_files: all files or none, refusals as clear errors."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from strangler.codemods.apply import (
    ApplyError,
    Change,
    SourceDecodeError,
    StaleFileError,
    apply,
    blocked_paths,
    diff,
    dirty_files,
    file_changes,
    file_removals,
    read_source,
)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "a.py").write_text("a = 1\n")
    (tmp_path / "shop" / "b.py").write_text("b = 1\n")
    return tmp_path


def test_diff_shows_new_modified_and_deleted_files() -> None:
    text = diff(
        [
            Change("new.py", None, "x = 1\n"),
            Change("mod.py", "y = 1\n", "y = 2\n"),
            Change("gone.py", "z = 1\n", None),
            Change("same.py", "s\n", "s\n"),
        ]
    )
    assert "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+x = 1\n" in text
    assert "--- a/mod.py\n+++ b/mod.py\n@@ -1 +1 @@\n-y = 1\n+y = 2\n" in text
    assert "--- a/gone.py\n+++ /dev/null\n" in text
    assert "same.py" not in text


def test_diff_marks_a_missing_final_newline() -> None:
    assert "\\ No newline at end of file" in diff([Change("m.py", "a", "b\n")])


def test_apply_creates_modifies_and_deletes(tree: Path) -> None:
    written = apply(
        [
            Change("shop/a.py", "a = 1\n", "a = 2\n"),
            Change("functions/n/handlers.py", None, "h = 1\n"),
            Change("shop/b.py", "b = 1\n", None),
        ],
        tree,
    )
    assert written == ("shop/a.py", "functions/n/handlers.py", "shop/b.py")
    assert snapshot(tree) == {"shop/a.py": b"a = 2\n", "functions/n/handlers.py": b"h = 1\n"}


def test_a_created_file_gets_the_umask_mode_not_mkstemps_0600(tree: Path) -> None:
    """A new handler module must be as readable as one made with ``open(path, "w")``."""
    old = os.umask(0o027)
    try:
        apply([Change("functions/n/handlers.py", None, "h = 1\n")], tree)
    finally:
        os.umask(old)
    assert (tree / "functions" / "n" / "handlers.py").stat().st_mode & 0o777 == 0o640


def test_apply_keeps_line_endings_and_mode(tree: Path) -> None:
    target = tree / "shop" / "crlf.py"
    target.write_bytes(b"x = 1\r\n")
    target.chmod(0o750)
    before = read_source(target)
    assert before == "x = 1\r\n"
    apply([Change("shop/crlf.py", before, "x = 2\r\n")], tree)
    assert target.read_bytes() == b"x = 2\r\n"
    assert target.stat().st_mode & 0o777 == 0o750


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("shop/latin.py", "# -*- coding: latin-1 -*-\nx = 'é'\n".encode("latin-1")),
        ("shop/cookie2.py", "#!/usr/bin/env python\n# coding=cp1252\nx = '€'\n".encode("cp1252")),
        ("shop/bom.py", b"\xef\xbb\xbfx = '\xc3\xa9'\r\n"),
    ],
)
def test_a_python_file_is_read_and_written_in_its_own_encoding(
    tree: Path, name: str, raw: bytes
) -> None:
    (tree / name).write_bytes(raw)
    text = read_source(tree / name)
    assert text is not None
    assert "x = '" in text
    apply([Change(name, text, text + "y = 1\n")], tree)
    assert (tree / name).read_bytes() == raw + b"y = 1\n"


def test_an_undecodable_python_file_is_one_clear_error(tree: Path) -> None:
    (tree / "shop" / "bad.py").write_bytes(b"x = '\xe9'\n")
    with pytest.raises(SourceDecodeError, match=r"bad\.py: cannot decode"):
        read_source(tree / "shop" / "bad.py")


def test_a_folder_where_a_file_goes_is_refused_not_a_traceback(tree: Path) -> None:
    (tree / "shop" / "c.py").mkdir()
    assert blocked_paths(tree, ["shop/c.py", "shop/a.py/x.py", "shop/new/d.py"]) == [
        "shop/c.py is a directory where the file would be written",
        "shop/a.py is a file where a folder of generated files would be",
    ]
    before = snapshot(tree)
    with pytest.raises(ApplyError, match=r"c\.py is a directory"):
        apply([Change("shop/a.py", "a = 1\n", "a = 2\n"), Change("shop/c.py", None, "c\n")], tree)
    assert snapshot(tree) == before


def test_failure_on_second_replace_rolls_everything_back(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(tree)
    real_replace = os.replace
    calls: list[str] = []

    def failing_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ApplyError, match=r"could not write shop/b\.py: No space left.*nothing"):
        apply(
            [
                Change("shop/a.py", "a = 1\n", "a = 2\n"),
                Change("shop/b.py", "b = 1\n", "b = 2\n"),
                Change("functions/n/new.py", None, "n = 1\n"),
            ],
            tree,
        )
    assert snapshot(tree) == before  # a.py restored, no temp/backup files, no new folder


@pytest.mark.parametrize("interrupted_at", [2, 3])
def test_ctrl_c_half_way_rolls_everything_back_and_propagates(
    tree: Path, monkeypatch: pytest.MonkeyPatch, interrupted_at: int
) -> None:
    before = snapshot(tree)
    real_replace = os.replace
    calls: list[str] = []

    def interrupted_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(str(dst))
        if len(calls) == interrupted_at:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        apply(
            [
                Change("shop/a.py", "a = 1\n", "a = 2\n"),
                Change("functions/n/new.py", None, "n = 1\n"),
                Change("shop/b.py", "b = 1\n", "b = 2\n"),
            ],
            tree,
        )
    assert snapshot(tree) == before  # no file replaced, no temp/backup left, no new folder
    assert not (tree / "functions").exists()


def test_unwritable_folder_on_second_file_writes_nothing(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that refuses new files (permissions, read-only mount). Simulated at the
    temp-file step rather than with chmod, which does not bite as root (CI runs as root)."""
    locked = tree / "locked"
    locked.mkdir()
    (locked / "c.py").write_text("c = 1\n")
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if Path(kwargs.get("dir", "")).resolve() == locked.resolve():
            raise PermissionError(13, "Permission denied", str(locked))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    before = snapshot(tree)
    with pytest.raises(ApplyError, match=r"locked/c\.py"):
        apply(
            [
                Change("shop/a.py", "a = 1\n", "a = 2\n"),
                Change("locked/c.py", "c = 1\n", "c = 2\n"),
            ],
            tree,
        )
    assert snapshot(tree) == before


def test_folder_that_cannot_be_created_on_second_file_writes_nothing(tree: Path) -> None:
    before = snapshot(tree)
    with pytest.raises(ApplyError, match=r"could not write shop/a\.py/x\.py"):
        apply(
            [
                Change("functions/n/handlers.py", None, "h = 1\n"),
                Change("shop/a.py/x.py", None, "x = 1\n"),  # a.py is a file, not a folder
            ],
            tree,
        )
    assert snapshot(tree) == before
    assert not (tree / "functions").exists()


def test_refuses_a_file_changed_since_it_was_read(tree: Path) -> None:
    before = snapshot(tree)
    with pytest.raises(StaleFileError, match=r"shop/b\.py changed since it was read"):
        apply(
            [
                Change("shop/a.py", "a = 1\n", "a = 2\n"),
                Change("shop/b.py", "b = 0\n", "b = 2\n"),
            ],
            tree,
        )
    assert snapshot(tree) == before


def test_refuses_to_create_a_file_that_appeared(tree: Path) -> None:
    with pytest.raises(StaleFileError):
        apply([Change("shop/a.py", None, "a = 9\n")], tree)
    assert (tree / "shop" / "a.py").read_text() == "a = 1\n"


@pytest.mark.parametrize("bad", ["../escape.py", "/etc/passwd", ""])
def test_refuses_paths_outside_the_root(tree: Path, bad: str) -> None:
    with pytest.raises(ApplyError, match="outside the target folder"):
        apply([Change(bad, None, "x\n")], tree)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_dirty_files_reports_modified_and_untracked_only(tree: Path) -> None:
    git(tree, "init", "-q")
    git(tree, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    git(tree, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    (tree / "shop" / "a.py").write_text("a = 5\n")
    (tree / "shop" / "new.py").write_text("n = 1\n")
    wanted = ["shop/a.py", "shop/b.py", "shop/new.py", "functions/x.py"]
    assert dirty_files(tree, wanted) == ("shop/a.py", "shop/new.py")
    assert dirty_files(tree / "shop", ["a.py", "b.py"]) == ("a.py",)


def test_dirty_files_outside_git_cannot_tell(tmp_path: Path) -> None:
    assert dirty_files(tmp_path, ["a.py"]) is None


def test_file_changes_create_only_keeps_a_shared_file(tree: Path) -> None:
    (tree / "functions").mkdir()
    (tree / "functions" / "__init__.py").write_text('"""Ours."""\n')
    files = {"functions/__init__.py": '"""Theirs."""\n', "functions/n/a.py": "a = 1\n"}
    changes = file_changes(tree, files, create_only={"functions/__init__.py"})
    assert [c.kind for c in changes] == ["unchanged", "create"]
    apply(changes, tree)
    again = file_changes(tree, files, create_only={"functions/__init__.py"})
    assert [c.kind for c in again] == ["unchanged", "unchanged"]
    assert diff(again) == ""
    assert (tree / "functions" / "__init__.py").read_text() == '"""Ours."""\n'


def test_removals_delete_files_and_the_folders_they_empty(tree: Path) -> None:
    files = {"functions/n/a.py": "a\n", "functions/n/schemas/a.json": "{}\n"}
    apply(file_changes(tree, files), tree)
    (tree / "functions" / "keep.py").write_text("k\n")
    removals = file_removals(tree, [*files, "functions/n/never.py"])
    assert [(c.path, c.kind) for c in removals] == [
        ("functions/n/a.py", "delete"),
        ("functions/n/schemas/a.json", "delete"),
    ]
    apply(removals, tree)
    assert not (tree / "functions" / "n").exists()
    assert (tree / "functions" / "keep.py").exists()
