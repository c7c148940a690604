"""Codemods: libcst transformers that carve capabilities out of the monolith.

Transformers are small and return results as values (:class:`CodemodResult`); nothing
here writes a file - :mod:`strangler.codemods.apply` does, all files or none.
"""

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
from strangler.codemods.batch import BatchResult, run_over_files
from strangler.codemods.generate import (
    USER_SAMPLE,
    ArgSpec,
    EntryPointSpec,
    GeneratedPackage,
    GenerationFailure,
    HandlerPackageSpec,
    generate_handler_package,
    routed_spec,
    task_name,
)
from strangler.codemods.results import CodemodResult, Status, run_codemod
from strangler.codemods.retire import (
    DISPATCH_ONLY,
    RetireMonolithPath,
    is_retired,
    retired_functions,
)
from strangler.codemods.routed import (
    STYLES,
    AddRoutedDecorator,
    RemoveRouted,
    RoutedNameConflict,
    RoutedSpec,
)
from strangler.codemods.source import ModuleSource

__all__ = [
    "DISPATCH_ONLY",
    "STYLES",
    "USER_SAMPLE",
    "AddRoutedDecorator",
    "ApplyError",
    "ArgSpec",
    "BatchResult",
    "Change",
    "CodemodResult",
    "EntryPointSpec",
    "GeneratedPackage",
    "GenerationFailure",
    "HandlerPackageSpec",
    "ModuleSource",
    "RemoveRouted",
    "RetireMonolithPath",
    "RoutedNameConflict",
    "RoutedSpec",
    "SourceDecodeError",
    "StaleFileError",
    "Status",
    "apply",
    "blocked_paths",
    "diff",
    "dirty_files",
    "file_changes",
    "file_removals",
    "generate_handler_package",
    "is_retired",
    "read_source",
    "retired_functions",
    "routed_spec",
    "run_codemod",
    "run_over_files",
    "task_name",
]
