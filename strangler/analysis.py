"""Use case: analyse a project folder, reusing a cached final analysis when nothing changed.

The final analysis is cached as JSON (never pickle) under the cache directory, keyed
by the content hash of every Python file collection reads, the options that change the
result (weights, excludes, proposal size), the tool version and the JSON schema
version. Any change to any of them is a different key, so a stale answer is
impossible; a corrupt or unreadable cache file is a miss, never a crash. A miss runs
fact collection (which has its own per-file cache) and the analysis.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import overload

import networkx as nx

from analyzers import analysis as analysis_module
from analyzers import capabilities as capabilities_module
from analyzers import graph as graph_module
from analyzers import quality as quality_module
from analyzers import scoring as scoring_module
from analyzers.analysis import (
    SCHEMA_VERSION,
    Analysis,
    Capability,
    analyze_collection,
    capability_from_json,
    capability_to_json,
    from_json,
    to_json,
)
from analyzers.cache import tool_fingerprint
from analyzers.collect import Collection, CollectOptions, NothingToAnalyse, collect, discover
from analyzers.graph import build_graph
from strangler import __version__
from strangler.config import Config

__all__ = ["AnalysisRun", "BadInput", "build_project_graph", "run_analysis", "write_atomic"]

Progress = Callable[[int, int], None]


class BadInput(Exception):
    """The path cannot be analysed at all (missing, not a folder, no Python): exit 2."""


@dataclass(frozen=True, slots=True)
class AnalysisRun:
    analysis: Analysis
    from_cache: bool


def run_analysis(root: Path, config: Config, progress: Progress | None = None) -> AnalysisRun:
    root = _check_root(root)
    key = _cache_key(root, config) if config.cache else None
    if key is not None:
        cached = _load(config.cache_path(root), key)
        if cached is not None:
            return AnalysisRun(cached, from_cache=True)
    collection = _collect(root, config, progress)
    analysis = analyze_collection(collection, config.weights, proposal_size=config.proposal_size)
    if key is not None:
        _store(config.cache_path(root), key, analysis)
    return AnalysisRun(analysis, from_cache=False)


def build_project_graph(root: Path, config: Config, progress: Progress | None = None) -> nx.DiGraph:
    collection = _collect(_check_root(root), config, progress)
    return build_graph(collection.modules)


def _check_root(root: Path) -> Path:
    if not root.exists():
        raise BadInput(f"{root}: no such file or directory")
    if not root.is_dir():
        raise BadInput(f"{root}: not a directory (give the project folder)")
    return root.resolve()


def _collect(root: Path, config: Config, progress: Progress | None) -> Collection:
    options = CollectOptions(
        jobs=config.jobs,
        cache_dir=config.cache_path(root),
        use_cache=config.cache,
        excludes=config.exclude,
        progress=progress,
    )
    try:
        return collect(root, options)
    except NothingToAnalyse as exc:
        raise BadInput(str(exc)) from None


# ------------------------------------------------------------------ final-analysis cache


def _cache_key(root: Path, config: Config) -> str:
    """Hash of every analysed file's content (the same files collection reads, from
    its own ``discover``), the result-changing options and the tool version."""
    try:
        base, sources, prefix = discover(root, config.exclude)
    except NothingToAnalyse as exc:
        raise BadInput(str(exc)) from None
    digest = hashlib.blake2b(digest_size=20)
    header = {
        "tool": __version__,
        "facts": tool_fingerprint(),
        "analysis": _analysis_fingerprint(),
        "schema": SCHEMA_VERSION,
        "config": config.fingerprint(),
        "prefix": prefix,
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for src in sources:
        try:
            content = (base / src.relpath).read_bytes()
        except OSError:
            content = b"<unreadable>"
        digest.update(src.relpath.encode() + b"\0")
        digest.update(hashlib.blake2b(content, digest_size=16).digest())
    return digest.hexdigest()


def _analysis_fingerprint() -> str:
    """Hash of the analysis code itself, so a development build never reuses a result
    computed by different scoring code under the same version number."""
    digest = hashlib.blake2b(digest_size=16)
    for module in (
        graph_module,
        capabilities_module,
        scoring_module,
        quality_module,
        analysis_module,
    ):
        with contextlib.suppress(OSError, TypeError):
            digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def _analysis_file(cache_dir: Path) -> Path:
    return cache_dir / "analysis.json"


def _load(cache_dir: Path, key: str) -> Analysis | None:
    try:
        data = json.loads(_analysis_file(cache_dir).read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        head = from_json({**data["head"], "capabilities": []})
        caps = _LazyCapabilities(data["names"], data["capabilities"])
        if len(caps.names) != len(caps) or data["digest"] != _digest(data["capabilities"]):
            return None  # truncated or edited: never decode a capability we cannot trust
        return replace(head, capabilities=caps)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing or corrupt: recompute


def _store(cache_dir: Path, key: str, analysis: Analysis) -> None:
    head = to_json(analysis, top=0)
    del head["capabilities"]
    texts = [
        json.dumps(capability_to_json(c), separators=(",", ":")) for c in analysis.capabilities
    ]
    document = {
        "key": key,
        "head": head,
        "names": [c.name for c in analysis.capabilities],
        "digest": _digest(texts),
        "capabilities": texts,
    }
    text = json.dumps(document, separators=(",", ":"))
    with contextlib.suppress(OSError):  # a read-only cache folder must not fail the run
        write_atomic(_analysis_file(cache_dir), text)


def _digest(texts: Sequence[str]) -> str:
    """Checked on load, because capabilities are decoded later, one by one: a damaged
    entry must make the whole cache a miss now, not a crash in the middle of a report."""
    digest = hashlib.blake2b(digest_size=16)
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


class _LazyCapabilities(Sequence[Capability]):
    """Ranked capabilities from the cache, each decoded from its JSON on first use.

    Why: a warm ``analyze --top 20`` or ``explain X`` needs 20 or 1 of thousands of
    capabilities; decoding all of them cost more than the rest of a warm run.
    Corrupt entries surface as ``ValueError``/``KeyError`` when touched.
    """

    def __init__(self, names: Sequence[str], texts: Sequence[str]) -> None:
        self.names = tuple(str(n) for n in names)
        self._texts = texts
        self._decoded: dict[int, Capability] = {}

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, index: int) -> Capability: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Capability]: ...
    def __getitem__(self, index: int | slice) -> Capability | Sequence[Capability]:
        if isinstance(index, slice):
            return tuple(self._get(i) for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._get(index)

    def _get(self, index: int) -> Capability:
        if index not in self._decoded:
            self._decoded[index] = capability_from_json(json.loads(self._texts[index]))
        return self._decoded[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
