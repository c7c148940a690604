"""Codemod outcomes as values: changed, unchanged, skipped or failed - never an exception.

A caller (the ``extract``/``retire`` use cases) runs several codemods over several files
and must decide what to do with the whole set: show a diff, refuse, write everything.
Exceptions would stop at the first file; values let it gather every reason first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from libcst.codemod import (
    Codemod,
    CodemodContext,
    TransformFailure,
    TransformSkip,
    TransformSuccess,
    transform_module,
)

__all__ = ["CodemodResult", "Status", "run_codemod"]


class Status(StrEnum):
    CHANGED = "changed"  # the code differs from the input
    UNCHANGED = "unchanged"  # nothing to do (already done, or no target in this module)
    SKIPPED = "skipped"  # nothing changed because every target found was refused
    FAILED = "failed"  # the module did not parse, or the codemod could not run safely


@dataclass(frozen=True, slots=True)
class CodemodResult:
    """What one codemod did to one module.

    ``code`` is always usable: the transformed code when CHANGED, the input otherwise.
    ``notes`` explains every target that was refused or not found (one line each).
    """

    status: Status
    code: str
    changed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED


def run_codemod(codemod: Codemod, code: str, *, filename: str | None = None) -> CodemodResult:
    """Run ``codemod`` over ``code`` with a fresh context and return the outcome as a value.

    The codemod's ``changed`` attribute (qualnames it touched), when present, is reported;
    its warnings (``Codemod.warn``) become the notes.
    """
    bom, code = _split_bom(code)
    result = _run(codemod, code, filename)
    return replace(result, code=bom + result.code) if bom else result


def _split_bom(code: str) -> tuple[str, str]:
    """A leading UTF-8 BOM (``U+FEFF``), which libcst drops from text, and the rest: the
    result gets it back, so the file keeps its first bytes."""
    return ("\ufeff", code[1:]) if code.startswith("\ufeff") else ("", code)


def _run(codemod: Codemod, code: str, filename: str | None) -> CodemodResult:
    codemod.context = CodemodContext(filename=filename)
    outcome = transform_module(codemod, code)
    notes = tuple(codemod.context.warnings)
    if isinstance(outcome, TransformSuccess):
        changed = tuple(getattr(codemod, "changed", ()))
        if outcome.code == code:
            status = Status.SKIPPED if notes and _refused(codemod) else Status.UNCHANGED
            return CodemodResult(status, code, (), notes)
        return CodemodResult(Status.CHANGED, outcome.code, changed, notes)
    if isinstance(outcome, TransformSkip):
        return CodemodResult(Status.SKIPPED, code, (), (*notes, outcome.skip_description))
    if isinstance(outcome, TransformFailure):
        error = f"{type(outcome.error).__name__}: {outcome.error}".splitlines()[0]
        return CodemodResult(Status.FAILED, code, (), notes, error)
    return CodemodResult(Status.FAILED, code, (), notes, "interrupted")


def _refused(codemod: Codemod) -> bool:
    return bool(getattr(codemod, "refused", ()))
