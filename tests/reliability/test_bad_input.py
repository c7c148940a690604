"""Case 7 (CLI half): bad input is a one-line error, exit 2, and nothing is written.

Each command runs as the real ``strangler`` executable, in a fresh working directory
next to the project it is given, with no ``STRANGLER_*`` or Django settings in its
environment (so the embedded defaults apply: SQLite files under ``.strangler/``). The
whole tree is snapshotted before and after, so "nothing written" covers caches, stores
and report files alike. The malformed-event half is in test_handler_faults.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.report import Report

STRANGLER = str(Path(sys.executable).parent / "strangler")

BROKEN = {
    "syntax.py": b"def broken(:\n",
    "latin.py": b"x = '\xff\xfe'\n",
    "pkg/__init__.py": b"class (\n",
    "pkg/views.py": b"\x00\x01binary\x00",
}


def make_project(root: Path) -> Path:
    project = root / "broken_project"
    for name, content in BROKEN.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_bytes(content)
    (root / "a_file.py").write_text("x = 1\n")
    good = root / "good_project"
    good.mkdir()
    (good / "orders.py").write_text("def confirm(order_id: int) -> int:\n    return order_id\n")
    return project


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()} | {
        str(p.relative_to(root)) + "/": b"" for p in root.rglob("*") if p.is_dir()
    }


CASES = [
    ("nonexistent path", ["analyze", "no/such/folder"]),
    ("a file, not a folder", ["analyze", "a_file.py"]),
    ("every file broken", ["analyze", "broken_project", "--no-cache"]),
    ("every file broken (json)", ["analyze", "broken_project", "--format", "json", "--no-cache"]),
    ("every file broken, cache on", ["analyze", "broken_project"]),
    ("explain: unknown capability", ["explain", "good_project", "nosuch", "--no-cache"]),
    ("--percent 150", ["route", "set", "orders.confirm", "canary", "--percent", "150"]),
    ("--percent -1", ["route", "set", "orders.confirm", "canary", "--percent", "-1"]),
    ("unknown mode", ["route", "set", "orders.confirm", "warp-speed"]),
    ("canary without percent", ["route", "set", "orders.confirm", "canary"]),
    ("percent with function", ["route", "set", "orders.confirm", "function", "--percent", "5"]),
    ("unknown feature", ["route", "history", "no.such.feature"]),
    ("mismatches: unknown feature", ["route", "mismatches", "no.such.feature"]),
    ("mismatches --limit 0", ["route", "mismatches", "orders.confirm", "--limit", "0"]),
    ("unknown store scheme", ["route", "list", "--store", "mongodb://127.0.0.1/x"]),
]


@pytest.mark.parametrize(
    ("case", "args"),
    [c if hasattr(c, "marks") else pytest.param(*c, id=c[0]) for c in CASES],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    case: str, args: list[str], tmp_path: Path, report: Report
) -> None:
    make_project(tmp_path)
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith("STRANGLER_") and k != "DJANGO_SETTINGS_MODULE"
    }  # fmt: skip
    before = snapshot(tmp_path)
    result = subprocess.run(
        [STRANGLER, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert result.returncode == 2, output
    assert len(lines) == 1, output
    assert "Traceback" not in output
    assert snapshot(tmp_path) == before, "something was written"
    rows = report.cases.setdefault(
        "7a. CLI bad input",
        {"guarantee": "one-line error, exit 2, nothing written", "cases": 0, "passed": 0},
    )
    rows["cases"] += 1
    rows["passed"] += 1
