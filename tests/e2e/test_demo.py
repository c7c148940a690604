"""Acceptance: `make demo` (scripts/demo.py) runs the whole lifecycle end to end.

On the embedded default only (Celery's filesystem transport, SQLite route store): no
server is needed, so this test needs none either. It runs the script as a user would,
in a scratch folder of its own, and checks that every step ran and what they reported.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def test_the_demo_runs_the_lifecycle_end_to_end(tmp_path: Path) -> None:
    scratch = tmp_path / "shop"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--scratch", str(scratch)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out[-4000:] + done.stderr[-2000:]
    steps = [int(n) for n in re.findall(r"^== (\d+)\. ", out, re.M)]
    assert steps == list(range(1, 12)), steps
    assert re.search(r"^\s+Ran \d+ tests in", out, re.M)
    assert re.search(r"answered by the function, 0 fell back to the monolith, 0 failed", out)
    assert "a second dry run: no diff (idempotent)" in out
    assert re.search(r"demo finished in \d+s", out)
    # retire really rewrote the scratch copy's entry point, and only there
    top = re.search(r"top capability: (\S+)", out)
    assert top is not None, out[:3000]
    module = Path(*top.group(1).split(".")[:-1]).with_suffix(".py")
    assert "dispatch_only(" in (scratch / module).read_text()
    assert "dispatch_only(" not in (ROOT / "demo_monolith" / module).read_text()
