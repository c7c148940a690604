"""The facts cache: per-file facts keyed by content, plus the last linked result.

Layout under the cache directory (``.strangler/cache/`` by default)::

    facts.json    content key -> one module's unlinked facts, for the project's files;
                  key = hash(tool, path, module, bytes)
    index.json    path -> [size, mtime_ns, ctime_ns, inode, key]: skips re-hashing
                  unchanged files
    linked.json   the linked facts of the last run, keyed by all files' keys

Per-file facts live in one pack rather than one file each: writing 900 small files
cost a sixth of a cold run on Django's source, one file costs almost nothing; a
changed file still re-parses only itself (its key changes, the others' do not).

The tool fingerprint (:data:`~analyzers.codec.SCHEMA_VERSION` and a hash of the
analyzer sources, which any new version changes) is part of every key, so a new
version simply finds nothing and rebuilds. Each file is sealed by a checksum of its
bytes (:mod:`analyzers.cachefile`), checked before it is decoded: a damaged or edited
file, even one that is still well-formed JSON, is a miss and is rebuilt. A file that
cannot be read or decoded counts as a miss, never as an error. Writes are atomic. JSON
only, never pickle.

The index trusts a file whose stat data match without reading it, as git's index does,
and with the same data: size, mtime, ctime and inode. The mtime alone is not enough:
``touch -d``, ``cp -p``, ``tar`` and ``rsync -t`` put an old one back on new content;
the ctime cannot be set back, and a file replaced by a rename has a new inode. A file
whose stat data differ is hashed again; its content key decides whether it re-parses.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from analyzers import cachefile, jsonio
from analyzers.codec import SCHEMA_VERSION, Encoded, decode, encode
from analyzers.facts import Diagnostic, ModuleFacts

__all__ = ["FactsCache", "content_key", "tool_fingerprint"]

_FINGERPRINTED = (
    "facts.py",
    "parse.py",
    "modernise.py",
    "link.py",
    "codec.py",
    "cache.py",
    "jsonio.py",
    "_make.py",
)
_DECODE_ERRORS = (ValueError, TypeError, IndexError, KeyError, AttributeError)


class SourceLike(Protocol):
    @property
    def relpath(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime_ns(self) -> int: ...
    @property
    def ctime_ns(self) -> int: ...
    @property
    def ino(self) -> int: ...


@cache
def tool_fingerprint() -> str:
    """Changes whenever the facts schema or the analyzer code changes."""
    # The analyzer sources themselves rather than the package version: a release changes
    # them, and so does every edit during development; importlib.metadata is also slow.
    digest = hashlib.blake2b(f"schema {SCHEMA_VERSION}".encode(), digest_size=16)
    here = Path(__file__).parent
    for name in _FINGERPRINTED:
        with contextlib.suppress(OSError):
            digest.update((here / name).read_bytes())
    return digest.hexdigest()


def content_key(relpath: str, module: str, data: bytes) -> str:
    """The cache key of one file's facts: its bytes, its place, and the tool."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{tool_fingerprint()}\0{relpath}\0{module}\0".encode())
    digest.update(data)
    return digest.hexdigest()


class FactsCache:
    """See the module docstring. Instances are cheap; all I/O errors are misses."""

    def __init__(self, directory: Path, prefix: str = "") -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self._index: dict[str, list[Any]] = {}
        self._dirty = False
        self._pack: dict[str, Encoded] | None = None  # loaded on first use
        self._new: dict[str, Encoded] = {}
        self._linked: tuple[str, Sequence[ModuleFacts], Sequence[Diagnostic]] | None = None

    @classmethod
    def open(cls, directory: Path, prefix: str = "") -> FactsCache:
        self = cls(directory, prefix)
        index = self._read_json(self.directory / "index.json")
        if isinstance(index, dict) and index.get("tool") == tool_fingerprint():
            files = index.get("files")
            if isinstance(files, dict):
                self._index = files
        return self

    # ------------------------------------------------------------------ keys
    def keys(
        self, base: Path, sources: Sequence[SourceLike]
    ) -> tuple[dict[str, str], dict[str, bytes]]:
        """Content key per file, and the bytes of the files that had to be read for it:
        files whose stat data (size, mtime, ctime, inode) are unchanged are not read."""
        keys: dict[str, str] = {}
        read: dict[str, bytes] = {}
        index = self._index
        for src in sources:
            entry = index.get(src.relpath)
            if (
                isinstance(entry, list)
                and len(entry) == 5
                and entry[0] == src.size
                and entry[1] == src.mtime_ns
                and entry[2] == src.ctime_ns
                and entry[3] == src.ino
                and isinstance(entry[4], str)
            ):
                keys[src.relpath] = entry[4]
                continue
            try:
                data = (base / src.relpath).read_bytes()
            except OSError:
                keys[src.relpath] = ""  # unreadable: parse_one reports it
                continue
            keys[src.relpath] = self.key_for(src, data)
            read[src.relpath] = data
        return keys, read

    def key_for(self, src: SourceLike, data: bytes) -> str:
        key = content_key(src.relpath, src.module, data)
        if len(data) == src.size:
            self._index[src.relpath] = [src.size, src.mtime_ns, src.ctime_ns, src.ino, key]
            self._dirty = True
        return key

    # ------------------------------------------------------------------ per file
    def _entries(self) -> dict[str, Encoded]:
        if self._pack is None:
            data = self._read_json(self.directory / "facts.json")
            entries = data.get("entries") if isinstance(data, dict) else None
            ok = isinstance(entries, dict) and data.get("tool") == tool_fingerprint()
            self._pack = entries if ok and isinstance(entries, dict) else {}
        return self._pack

    def load(self, key: str) -> ModuleFacts | Diagnostic | None:
        """The cached facts for ``key``; None for a miss, a corrupt or a foreign entry."""
        data = self._entries().get(key) if key else None
        if data is None:
            return None
        try:
            facts = decode(data)
        except _DECODE_ERRORS:
            return None
        self._new[key] = data  # still current: keep it in the pack
        return facts

    def store(self, key: str, encoded: Encoded) -> None:
        if key:
            self._new[key] = encoded

    # ------------------------------------------------------------------ linked
    def fingerprint(self, keys: dict[str, str]) -> str:
        """One hash of every file's content key (``""`` when a file could not be read):
        what the linked snapshot is keyed by, and what a caller caching a result
        computed from all files can key it by without reading them again."""
        return "" if "" in keys.values() else self._linked_key(keys)

    def _linked_key(self, keys: dict[str, str]) -> str:
        digest = hashlib.blake2b(f"{tool_fingerprint()}\0{self.prefix}".encode(), digest_size=20)
        for relpath in sorted(keys):
            digest.update(f"\0{relpath}\0{keys[relpath]}".encode())
        return digest.hexdigest()

    def load_linked(
        self, keys: dict[str, str]
    ) -> tuple[tuple[ModuleFacts, ...], tuple[Diagnostic, ...]] | None:
        if not keys or "" in keys.values():
            return None
        data = self._read_json(self.directory / "linked.json")
        if not isinstance(data, dict) or data.get("key") != self._linked_key(keys):
            return None
        try:
            modules = tuple(decode(m) for m in data["modules"])
            diagnostics = tuple(decode(d) for d in data["diagnostics"])
        except _DECODE_ERRORS:
            return None
        if not all(isinstance(m, ModuleFacts) for m in modules) or not all(
            isinstance(d, Diagnostic) for d in diagnostics
        ):
            return None
        return modules, diagnostics  # type: ignore[return-value]

    def store_linked(
        self,
        keys: dict[str, str],
        modules: Sequence[ModuleFacts],
        diagnostics: Sequence[Diagnostic],
    ) -> None:
        """Keep the linked result for :meth:`save` (nothing is written before it)."""
        if "" in keys.values():
            return
        self._linked = (self._linked_key(keys), modules, diagnostics)

    def save(self) -> None:
        """Write the linked result, the pack (entries used or made by this run only) and
        the index: every write of a run happens here, so a caller that refuses the
        project after collecting it can leave nothing behind by not calling it."""
        if self._linked is not None:
            self._write_linked(*self._linked)
            self._linked = None
        if self._new.keys() != self._entries().keys():
            pack = {"tool": tool_fingerprint(), "entries": self._new}
            self._write(self.directory / "facts.json", jsonio.dumps(pack))
            self._pack = dict(self._new)
        self.save_index()

    def save_index(self) -> None:
        """Write the index if files were hashed again (alone: when a cached analysis
        answered after the stat data of unchanged files moved, a checkout or a copy,
        so that the next run trusts them without reading them again)."""
        if self._dirty:
            payload = {"tool": tool_fingerprint(), "files": self._index}
            self._write(self.directory / "index.json", jsonio.dumps(payload))
            self._dirty = False

    def _write_linked(
        self, key: str, modules: Sequence[ModuleFacts], diagnostics: Sequence[Diagnostic]
    ) -> None:
        payload = {
            "key": key,
            "modules": [encode(m, compact=True) for m in modules],
            "diagnostics": [encode(d) for d in diagnostics],
        }
        self._write(self.directory / "linked.json", jsonio.dumps(payload))

    # ------------------------------------------------------------------ I/O
    @staticmethod
    def _read_json(path: Path) -> Any:
        """The decoded payload of a sealed cache file; None when it is missing or damaged."""
        payload = cachefile.read(path)
        if payload is None:
            return None
        try:
            return jsonio.loads(payload)
        except (ValueError, RecursionError):
            return None

    @staticmethod
    def _write(path: Path, text: bytes) -> None:
        cachefile.write(path, [text])
