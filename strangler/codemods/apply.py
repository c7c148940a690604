"""Showing and writing codemod output: a unified diff, and writes that are all or nothing.

Hand-written (with :mod:`difflib` and :func:`os.replace`) because no well-kept library
offers a multi-file transaction on a plain directory: each new content is first written
to a temporary file next to its target (same filesystem, so the final rename is atomic),
every replaced file is first copied to a backup next to it, and only then are the
renames done. A failure at any point renames the backups back, removes the files that
were created, and raises :class:`ApplyError` - the tree is as it was before. An
interruption (Ctrl-C) rolls back the same way before it propagates.
"""

from __future__ import annotations

import codecs
import difflib
import io
import os
import re
import shutil
import subprocess
import tempfile
import tokenize
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from strangler.files import new_file_mode

__all__ = [
    "ApplyError",
    "Change",
    "SourceDecodeError",
    "StaleFileError",
    "apply",
    "blocked_paths",
    "diff",
    "dirty_files",
    "file_changes",
    "file_removals",
    "read_source",
    "source_encoding",
]

TMP_SUFFIX = ".strangler-tmp"
BAK_SUFFIX = ".strangler-bak"


class ApplyError(RuntimeError):
    """Nothing was written (or everything written was rolled back)."""


class StaleFileError(ApplyError):
    """A target file changed since its ``before`` content was read."""


class SourceDecodeError(ValueError):
    """A file's bytes do not decode in the encoding Python would read it with."""


@dataclass(frozen=True, slots=True)
class Change:
    """One file's content before and after; ``None`` means the file does not exist.

    ``path`` is relative to the root it is applied to, with ``/`` separators.
    """

    path: str
    before: str | None
    after: str | None

    @property
    def kind(self) -> str:
        if self.before == self.after:
            return "unchanged"
        if self.before is None:
            return "create"
        return "delete" if self.after is None else "modify"


def read_source(path: Path) -> str | None:
    """A file's exact text (line endings kept), or ``None`` when it does not exist.

    A Python file is decoded as Python reads it (a PEP 263 coding cookie, else UTF-8),
    a UTF-8 BOM kept as ``U+FEFF``: writing the text back in its :func:`source_encoding` gives
    the same bytes outside what changed. Raises :class:`SourceDecodeError`, and
    :class:`ApplyError` for a folder.
    """
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise ApplyError(f"{path} is a directory, not a file; nothing was written") from None
    try:
        return data.decode(_read_encoding(path, data))
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        detail = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise SourceDecodeError(f"{path}: cannot decode ({detail})") from None


def _read_encoding(path: Path, data: bytes) -> str:
    if path.suffix not in _PYTHON:
        return "utf-8"
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return "utf-8" if encoding == "utf-8-sig" else encoding  # the BOM stays in the text


_PYTHON = frozenset({".py", ".pyi"})
_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK = re.compile(r"^[ \t\f]*(?:[#\r\n]|$)", re.ASCII)


def source_encoding(path: str, text: str) -> str:
    """The encoding ``text`` is written in: a Python file's coding cookie (in its first
    two lines, as PEP 263 reads it), else UTF-8 (a leading ``U+FEFF`` is the BOM)."""
    if PurePosixPath(path).suffix not in _PYTHON or text.startswith("\ufeff"):
        return "utf-8"
    for number, line in enumerate(text.splitlines()[:2]):
        match = _COOKIE.match(line)
        if match:
            return codecs.lookup(match.group(1)).name
        if number == 0 and not _BLANK.match(line):
            break
    return "utf-8"


def _write_text(path: Path, text: str, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        handle.write(text)


def file_changes(
    root: Path, files: Mapping[str, str], *, create_only: Collection[str] = ()
) -> list[Change]:
    """Changes that bring ``files`` (relative path -> text) onto ``root``.

    A path in ``create_only`` that already exists is left as it is (a shared file such
    as ``functions/__init__.py``). Unchanged files give unchanged changes, which
    :func:`diff` and :func:`apply` skip - so generating twice shows no diff.
    """
    changes: list[Change] = []
    for path, text in files.items():
        before = read_source(_target(Path(root), path))
        after = before if path in create_only and before is not None else text
        changes.append(Change(path, before, after))
    return changes


def blocked_paths(root: Path, paths: Iterable[str]) -> list[str]:
    """Why each of ``paths`` (files to write under ``root``) cannot be written: a folder
    where the file goes, or a file where one of its folders goes. Said before anything
    is shown or written, rather than as an I/O error half-way through ``apply``."""
    problems: list[str] = []
    for path in paths:
        target = _target(Path(root), path)
        if target.is_dir():
            problems.append(f"{path} is a directory where the file would be written")
            continue
        parent = next((p for p in target.parents if p.exists() or p.is_symlink()), None)
        if parent is not None and not parent.is_dir():
            where = parent.relative_to(root).as_posix()
            problems.append(f"{where} is a file where a folder of generated files would be")
    return list(dict.fromkeys(problems))


def file_removals(root: Path, paths: Iterable[str]) -> list[Change]:
    """Changes deleting each of ``paths`` that exists under ``root`` (``--revert``)."""
    changes: list[Change] = []
    for path in paths:
        before = read_source(_target(Path(root), path))
        if before is not None:
            changes.append(Change(path, before, None))
    return changes


# ----------------------------------------------------------------------------- diff


def diff(changes: Iterable[Change]) -> str:
    """A unified diff of every change (git style: ``a/``/``b/``, ``/dev/null`` for new files)."""
    return "".join(_file_diff(change) for change in changes if change.kind != "unchanged")


def _file_diff(change: Change) -> str:
    fromfile = "/dev/null" if change.before is None else f"a/{change.path}"
    tofile = "/dev/null" if change.after is None else f"b/{change.path}"
    lines = difflib.unified_diff(
        _diff_lines(change.before), _diff_lines(change.after), fromfile, tofile
    )
    return "".join(lines)


def _diff_lines(text: str | None) -> list[str]:
    """Lines for difflib; a last line without newline gets git's marker."""
    if not text:
        return []
    lines = text.splitlines(keepends=True)
    if not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


# ----------------------------------------------------------------------------- apply


@dataclass
class _Staged:
    """Where one change stands during :func:`apply` (mutable bookkeeping, private)."""

    change: Change
    target: Path
    temp: Path | None = None
    backup: Path | None = None
    done: bool = False


@dataclass
class _Transaction:
    root: Path
    staged: list[_Staged] = field(default_factory=list)
    created_dirs: list[Path] = field(default_factory=list)


def apply(changes: Sequence[Change], root: Path) -> tuple[str, ...]:
    """Write every change under ``root``, or none; returns the paths written.

    Refuses (:class:`StaleFileError`, nothing written) when a target's current content is
    not the change's ``before``; raises :class:`ApplyError` for a bad path or any I/O
    error, after rolling back what was already replaced.
    """
    root = Path(root)
    pending = [change for change in changes if change.kind != "unchanged"]
    transaction = _Transaction(root, [_Staged(c, _target(root, c.path)) for c in pending])
    _check_fresh(transaction.staged)
    current = ""
    try:
        for item in transaction.staged:
            current = item.change.path
            _stage(transaction, item)
        for item in transaction.staged:
            current = item.change.path
            _commit(item)
    except (OSError, UnicodeError, LookupError) as exc:  # I/O; text its encoding cannot hold
        _rollback(transaction)
        reason = getattr(exc, "strerror", None) or exc
        raise ApplyError(f"could not write {current}: {reason}; nothing was changed") from exc
    except BaseException:  # Ctrl-C (or any bug) half-way must not leave a half-written tree
        _rollback(transaction)
        raise
    _cleanup(transaction, keep_dirs=True)
    _prune_emptied(transaction)
    return tuple(item.change.path for item in transaction.staged)


def _prune_emptied(transaction: _Transaction) -> None:
    """Remove folders that deletions left empty (``extract --revert`` leaves no husk)."""
    root = transaction.root.resolve()
    for item in transaction.staged:
        if item.change.after is not None:
            continue
        folder = item.target.parent.resolve()
        # ``is_dir``: an earlier deletion in the same folder may have pruned it already.
        while (
            folder != root
            and root in folder.parents
            and folder.is_dir()
            and not any(folder.iterdir())
        ):
            folder.rmdir()
            folder = folder.parent


def _target(root: Path, relative: str) -> Path:
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ApplyError(f"refusing to write outside the target folder: {relative!r}")
    return root.joinpath(*pure.parts)


def _check_fresh(staged: Sequence[_Staged]) -> None:
    stale = [item.change.path for item in staged if read_source(item.target) != item.change.before]
    if stale:
        raise StaleFileError(
            f"{', '.join(stale)} changed since it was read; run the command again (nothing written)"
        )


def _stage(transaction: _Transaction, item: _Staged) -> None:
    """Write the new content to a temp file and the old one to a backup, both alongside."""
    parent = item.target.parent
    _make_dirs(transaction, parent)
    if item.change.before is not None:
        item.backup = _sibling(item.target, BAK_SUFFIX)
        shutil.copy2(item.target, item.backup)
    if item.change.after is not None:
        item.temp = _sibling(item.target, TMP_SUFFIX)
        after = item.change.after
        _write_text(item.temp, after, source_encoding(item.change.path, after))
        if item.change.before is not None:
            shutil.copymode(item.target, item.temp)
        else:  # mkstemp made it 0600; a new module gets what `open(path, "w")` would give
            os.chmod(item.temp, new_file_mode())


def _sibling(target: Path, suffix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(handle)
    return Path(name)


def _make_dirs(transaction: _Transaction, directory: Path) -> None:
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir()
        transaction.created_dirs.append(path)


def _commit(item: _Staged) -> None:
    if item.temp is not None:
        os.replace(item.temp, item.target)
        item.temp = None
    else:
        item.target.unlink()
    item.done = True


def _rollback(transaction: _Transaction) -> None:
    """Best effort, in reverse order: put backups back, remove created files and folders."""
    for item in reversed(transaction.staged):
        if not item.done:
            continue
        if item.backup is not None:
            os.replace(item.backup, item.target)
            item.backup = None
        else:
            item.target.unlink(missing_ok=True)
    _cleanup(transaction, keep_dirs=False)


def _cleanup(transaction: _Transaction, *, keep_dirs: bool) -> None:
    for item in transaction.staged:
        for leftover in (item.temp, item.backup):
            if leftover is not None:
                leftover.unlink(missing_ok=True)
        item.temp = item.backup = None
    if not keep_dirs:
        for directory in reversed(transaction.created_dirs):
            if directory.exists() and not any(directory.iterdir()):
                directory.rmdir()


# ----------------------------------------------------------------------------- git


def dirty_files(root: Path, paths: Iterable[str]) -> tuple[str, ...] | None:
    """Which of ``paths`` (relative to ``root``) have uncommitted changes, per git.

    Untracked files count as uncommitted. Returns ``None`` when ``root`` is not inside a
    git work tree (or git is missing): the caller cannot tell, and decides (``--force``).
    """
    wanted = sorted(set(paths))
    if not wanted:
        return ()
    prefix = _git(root, "rev-parse", "--show-prefix")
    if prefix is None:
        return None
    out = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *wanted)
    if out is None:
        return None
    dirty = {_strip_prefix(path, prefix.strip()) for path in _porcelain_paths(out)}
    return tuple(path for path in wanted if path in dirty)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None
    return done.stdout if done.returncode == 0 else None


def _porcelain_paths(out: str) -> list[str]:
    """Paths from ``git status --porcelain=v1 -z`` (a rename also lists its source)."""
    entries = out.split("\0")
    paths: list[str] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":
            paths.append(entries[index])
            index += 1
    return paths


def _strip_prefix(path: str, prefix: str) -> str:
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path
