"""Fresh git copies of demo_monolith and its ground truth, for the e2e tests.

``extract --apply`` refuses to overwrite uncommitted work, so each copy is its own git
repository with everything committed, as a real project would be.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "demo_monolith"
_IGNORE = shutil.ignore_patterns("__pycache__", ".strangler", "db.sqlite3", "media")


def ground_truth() -> dict[str, list[str]]:
    """The machine-checkable ```ground-truth block of demo_monolith's README."""
    text = (DEMO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```ground-truth\n(.*?)```", text, re.S)
    assert block is not None, "demo_monolith/README.md has no ground-truth block"
    truth: dict[str, list[str]] = {}
    for line in block.group(1).strip().splitlines():
        key, _, values = line.partition(":")
        truth[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return truth


def git(folder: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


def fresh_copy(parent: Path) -> Path:
    """``parent/shop``: demo_monolith without caches, databases or media, committed."""
    root = parent / "shop"
    shutil.copytree(DEMO, root, ignore=_IGNORE)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before")
    return root
