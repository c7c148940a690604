"""run_over_files: every module's outcome gathered; nothing written."""

from __future__ import annotations

from pathlib import Path

from strangler.codemods import (
    AddRoutedDecorator,
    RoutedSpec,
    apply,
    diff,
    run_over_files,
)

SPEC = RoutedSpec("n.send", task="functions.n.tasks.send")


def test_changes_notes_and_failures_per_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def send(o):\n    pass\n")
    (tmp_path / "b.py").write_text("async def send(o):\n    pass\n")
    (tmp_path / "c.py").write_text("def send(:\n")
    result = run_over_files(
        tmp_path,
        {
            name: lambda: AddRoutedDecorator({"send": SPEC})
            for name in ("a.py", "b.py", "c.py", "missing.py")
        },
    )
    assert [c.path for c in result.changes] == ["a.py"]
    assert result.notes == (
        "b.py: send: async def is not supported: shims.routed wraps synchronous callables",
    )
    assert [line.split(":")[0] for line in result.failures] == ["c.py", "missing.py"]
    assert not result.ok
    assert (tmp_path / "a.py").read_text() == "def send(o):\n    pass\n"  # nothing written
    assert "+@routed(" in diff(result.changes)
    apply(result.changes, tmp_path)
    again = run_over_files(tmp_path, {"a.py": lambda: AddRoutedDecorator({"send": SPEC})})
    assert again.changes == ()
    assert again.ok
