"""Running codemods over several files of a tree, gathering changes and reasons.

``strangler extract``/``retire`` touch a handful of monolith modules at once and must
refuse as a whole when one of them cannot be transformed; this collects every module's
outcome first so the caller can show all the reasons, then diff or apply the lot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from libcst.codemod import Codemod

from strangler.codemods.apply import Change, read_source
from strangler.codemods.results import Status, run_codemod

__all__ = ["BatchResult", "run_over_files"]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Changes for the files that changed; notes and failures as ``path: reason`` lines."""

    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


def run_over_files(root: Path, codemods: Mapping[str, Callable[[], Codemod]]) -> BatchResult:
    """Run ``codemods[path]()`` over each file (``path`` relative to ``root``).

    A fresh codemod per file; a missing file or a FAILED result is a failure.
    Nothing is written: apply ``result.changes`` with :func:`strangler.codemods.apply`.
    """
    changes: list[Change] = []
    notes: list[str] = []
    failures: list[str] = []
    for path, make in codemods.items():
        code = read_source(Path(root) / path)
        if code is None:
            failures.append(f"{path}: no such file")
            continue
        result = run_codemod(make(), code, filename=path)
        notes.extend(f"{path}: {note}" for note in result.notes)
        if result.status is Status.FAILED:
            failures.append(f"{path}: {result.error}")
        elif result.status is Status.CHANGED:
            changes.append(Change(path, code, result.code))
    return BatchResult(tuple(changes), tuple(notes), tuple(failures))
