"""File writes shared by the commands: all or nothing, with the permissions a user expects.

Every writer here stages into a temporary file beside the target and renames it over
the target, so a crash or a full disk never leaves half a report or half a module.
:func:`tempfile.mkstemp` creates that file with mode 0600 (it is meant to be private),
and the rename keeps it: without :func:`new_file_mode` a report written with
``--output``, or a handler module that ``extract`` creates, would be readable by its
owner only, where ``open(path, "w")`` would have honoured the umask (0644 under the
usual 022). An existing target keeps its own mode.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from pathlib import Path

from analyzers.cachefile import new_file_mode

__all__ = ["new_file_mode", "write_atomic"]


_FD_ALIAS = re.compile(r"/dev/(?:stdout|stderr|fd/\d+)|/proc/(?:self|\d+)/fd/\d+")
"""Names of an open file descriptor: whatever fd 1 is (a pipe, a terminal, a file the
shell opened with ``>`` or ``>>``) must be written, not replaced by a rename."""


def _in_place(path: Path) -> str | None:
    """The mode to open ``path`` with when it must be written in place, else None.

    An fd alias is appended to (``O_APPEND``): reopened with truncation, a file the
    shell opened with ``>>`` would lose what it held (after ``>`` it is empty anyway).
    An existing target that is no regular file (``/dev/null``, a FIFO) is written:
    renaming over it would replace the node itself.
    """
    if _FD_ALIAS.fullmatch(os.path.abspath(path)):
        return "ab"
    return "wb" if path.exists() and not path.is_file() else None


def target_mode(path: Path) -> int:
    """The mode the file at ``path`` should have after a rewrite: its own, else the default."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return new_file_mode()


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write via a temporary file in the same folder and rename: all or nothing.

    Written in place instead: an fd alias (``/dev/stdout``) and an existing target that
    is no regular file (see :func:`_in_place`). A symbolic link to a regular file is
    followed: its target is replaced, the link stays a link.
    """
    data = text.encode() if isinstance(text, str) else text
    in_place = _in_place(path)
    if in_place is not None:
        with path.open(in_place) as stream:
            stream.write(data)
        return
    if path.is_symlink() and path.is_file():
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = target_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            os.fchmod(fh.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
