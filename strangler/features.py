"""The features a project's code routes: ``@routed("orders.place", ...)`` and the
``dispatch_only("orders.place", ...)`` that ``strangler retire`` leaves behind.

``strangler route set`` checks a feature it has never seen against them: a misspelt
feature is a route nothing reads, and the operator who set ``function`` would believe
traffic moved while every call still ran on the monolith. The code is read, never
imported (as everywhere in strangler); only files that mention one of the two calls are
parsed, so a large monolith costs one read of each file.
"""

from __future__ import annotations

import ast
from pathlib import Path

from analyzers.collect import NothingToAnalyse, discover

__all__ = ["declared_features"]

_CALLS = frozenset({"routed", "dispatch_only"})
_MARKERS = tuple(f"{name}(".encode() for name in _CALLS)
_SKIP = ("*/migrations/*",)
_PROJECT_FILES = ("pyproject.toml", "manage.py", "setup.py", "setup.cfg")


def declared_features(root: Path) -> frozenset[str] | None:
    """Every feature name the Python code under ``root`` passes to ``routed`` or
    ``dispatch_only`` as a string literal (first argument or ``feature=``). A file that
    cannot be read or parsed is skipped: this is a hint for a warning, not an analysis.

    None when ``root`` is not a project's folder (none of ``pyproject.toml``,
    ``manage.py``, ``setup.py``, ``setup.cfg``): an operator running ``strangler
    route`` from a home folder must not wait for a walk of everything under it."""
    if not any((root / name).is_file() for name in _PROJECT_FILES):
        return None
    try:
        base, sources, _ = discover(root, _SKIP)
    except (NothingToAnalyse, OSError):
        return frozenset()
    found: set[str] = set()
    for source in sources:
        try:
            data = (base / source.relpath).read_bytes()
        except OSError:
            continue
        if any(marker in data for marker in _MARKERS):
            found |= _features_in(data)
    return frozenset(found)


def _features_in(data: bytes) -> set[str]:
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in _CALLS:
            given = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "feature":
                    given = keyword.value
            if isinstance(given, ast.Constant) and isinstance(given.value, str):
                found.add(given.value)
    return found


def _name(func: ast.expr) -> str | None:
    """``routed`` or ``shims.routed``: the called name, as written."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None
