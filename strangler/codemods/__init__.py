"""Codemods: libcst transformers that carve capabilities out of the monolith.

Transformers are small and return results as values (:class:`CodemodResult`); nothing
here writes a file - :mod:`strangler.codemods.apply` does, all files or none.
"""

from strangler.codemods.apply import (
    ApplyError,
    Change,
    StaleFileError,
    apply,
    diff,
    dirty_files,
    read_source,
)
from strangler.codemods.results import CodemodResult, Status, run_codemod
from strangler.codemods.retire import DISPATCH_ONLY, RetireMonolithPath
from strangler.codemods.routed import (
    STYLES,
    AddRoutedDecorator,
    RemoveRouted,
    RoutedNameConflict,
    RoutedSpec,
)

__all__ = [
    "DISPATCH_ONLY",
    "STYLES",
    "AddRoutedDecorator",
    "ApplyError",
    "Change",
    "CodemodResult",
    "RemoveRouted",
    "RetireMonolithPath",
    "RoutedNameConflict",
    "RoutedSpec",
    "StaleFileError",
    "Status",
    "apply",
    "diff",
    "dirty_files",
    "read_source",
    "run_codemod",
]
