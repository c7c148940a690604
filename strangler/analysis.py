"""Use case: analyse a project folder, reusing a cached final analysis when nothing changed.

The final analysis is cached as JSON (never pickle) under the cache directory, keyed
by the content hash of every Python file collection reads, the options that change the
result (weights, excludes, proposal size), the tool version and the JSON schema
version. Any change to any of them is a different key, so a stale answer is
impossible; a corrupt, edited or unreadable cache file is a miss, never a crash. A miss
runs fact collection (which has its own per-file cache) and the analysis. Nothing in it
depends on where the project is: a moved or copied project finds its cache, and gets
its own folder as the root.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, overload

import networkx as nx

from analyzers import analysis as analysis_module
from analyzers import cachefile, jsonio, paused_gc
from analyzers import capabilities as capabilities_module
from analyzers import graph as graph_module
from analyzers import quality as quality_module
from analyzers import scoring as scoring_module
from analyzers.analysis import (
    SCHEMA_VERSION,
    Analysis,
    Capability,
    analyze_collection,
    from_json,
    to_json,
)
from analyzers.cache import FactsCache, SourceLike, tool_fingerprint
from analyzers.collect import (
    Collection,
    CollectOptions,
    Discovered,
    NothingToAnalyse,
    collect,
    discover,
)
from analyzers.facts import Diagnostic
from analyzers.graph import build_graph
from analyzers.scoring import Blocker, Component, Evidence
from strangler import __version__
from strangler.config import Config

__all__ = ["AnalysisRun", "BadInput", "ProjectGraph", "build_project_graph", "run_analysis"]

Progress = Callable[[int, int], None]


class BadInput(Exception):
    """The path cannot be analysed at all (missing, not a folder, no Python): exit 2."""


@dataclass(frozen=True, slots=True)
class AnalysisRun:
    analysis: Analysis
    from_cache: bool


def run_analysis(
    root: Path,
    config: Config,
    progress: Progress | None = None,
    *,
    accept: Callable[[Analysis], None] | None = None,
) -> AnalysisRun:
    """The analysis of the project at ``root``, from the cache when nothing changed.

    Raises :class:`BadInput` for a project that cannot be analysed, or when ``accept``
    (the caller's own check, e.g. that a named capability exists) raises it. Nothing is
    written before the result is accepted: the facts and analysis caches come last.
    """
    root = _check_root(root)
    probe = _probe(root, config) if config.cache else None
    if probe is not None:
        hit = _load(config.cache_path(root), probe)
        if hit is not None:
            if accept is not None:
                accept(hit.analysis)
            _restat(config.cache_path(root), probe, hit)
            return AnalysisRun(hit.analysis, from_cache=True)
    with paused_gc():  # the whole cold run: facts, analysis, encoding the caches
        analysis = _cold(root, config, progress, probe, accept)
    return AnalysisRun(analysis, from_cache=False)


def _cold(
    root: Path,
    config: Config,
    progress: Progress | None,
    probe: _Probe | None,
    accept: Callable[[Analysis], None] | None,
) -> Analysis:
    """Collect, analyse, write the caches; only the analysis outlives the call.

    Why a function of its own: its locals (every module's facts) are freed when it
    returns, while the collector is still paused. Re-enabled with them alive, the
    caller's first collection walked them all (~0.15-0.2 s on Django's source) just
    before they were freed anyway.
    """
    collection = _collect(root, config, progress, probe)
    analysis = analyze_collection(collection, config.weights, proposal_size=config.proposal_size)
    if accept is not None:
        accept(analysis)
    collection.save_cache()
    if probe is not None:
        _store(config.cache_path(root), probe, analysis, collection.fingerprint)
    return analysis


@dataclass(frozen=True)
class ProjectGraph:
    """The project's dependency graph and the files that are not in it (and why)."""

    graph: nx.DiGraph
    diagnostics: tuple[Diagnostic, ...]


def build_project_graph(
    root: Path, config: Config, progress: Progress | None = None
) -> ProjectGraph:
    """The graph of ``root`` and what was left out of it: the caller reports those files
    (an unparseable file is missing from the graph, which must not look like no code)."""
    collection = _collect(_check_root(root), config, progress)
    collection.save_cache()
    return ProjectGraph(build_graph(collection.modules), tuple(collection.diagnostics))


def _check_analysable(root: Path, collection: Collection) -> None:
    """Refuse a project none of whose files could be read: bad input, not an empty report.

    Checked before any cache is written, so a refused project leaves nothing behind.
    """
    if not collection.modules and collection.diagnostics:
        first = collection.diagnostics[0]
        raise BadInput(
            f"{root}: none of its {len(collection.diagnostics)} Python files could be analysed "
            f"(e.g. {first.path}: {first.reason})"
        )


def _check_root(root: Path) -> Path:
    if not root.exists():
        raise BadInput(f"{root}: no such file or directory")
    if not root.is_dir():
        raise BadInput(f"{root}: not a directory (give the project folder)")
    return root.resolve()


def _collect(
    root: Path, config: Config, progress: Progress | None, probe: _Probe | None = None
) -> Collection:
    """Collected facts, cache writes held back (``Collection.save_cache``), or BadInput."""
    options = CollectOptions(
        jobs=config.jobs,
        cache_dir=config.cache_path(root),
        use_cache=config.cache,
        excludes=config.analysed_exclude,
        progress=progress,
        write_cache=False,
        snapshot_after_parse=False,  # the analysis cache answers the next run
    )
    try:
        collection = collect(root, options, discovered=probe.discovered if probe else None)
    except NothingToAnalyse as exc:
        raise BadInput(str(exc)) from None
    _check_analysable(root, collection)
    return collection


# ------------------------------------------------------------------ final-analysis cache


@dataclass(slots=True)
class _Probe:
    """What decides whether the cached analysis is still the answer.

    ``header``: the tool, analysis code, schema, result-changing options and module
    prefix. ``files``: every analysed file's path and stat data (size, mtime, ctime,
    inode: see :mod:`analyzers.cache`), from discovery alone. A cache whose header and
    files both match is current without reading a byte of source (what the facts
    cache's index also trusts). When only the stat data differ (a checkout, a
    ``touch``, a copy), :meth:`key` decides: the header and the content keys of every
    file, which the facts cache's index gives without reading the files whose stat
    data it already knows (a cold run gets them from collection).
    """

    discovered: Discovered
    header: str
    cache_dir: Path
    _key: str | None = None
    _facts: FactsCache | None = None

    @property
    def base(self) -> Path:
        return self.discovered[0]

    @property
    def sources(self) -> Sequence[SourceLike]:
        return self.discovered[1]

    @property
    def prefix(self) -> str:
        return self.discovered[2]

    def files(self) -> list[list[str | int]]:
        return [[s.relpath, s.size, s.mtime_ns, s.ctime_ns, s.ino] for s in self.sources]

    def key(self) -> str:
        if self._key is None:
            self._facts = FactsCache.open(self.cache_dir, self.prefix)
            keys = self._facts.keys(self.base, self.sources)[0]
            self._key = self.keyed(self._facts.fingerprint(keys))
        return self._key

    def save_index(self) -> None:
        """Keep the stat data of the files :meth:`key` had to hash again."""
        if self._facts is not None:
            self._facts.save_index()

    def keyed(self, fingerprint: str) -> str:
        """The cache key for a facts fingerprint; ``""`` (never equal) without one."""
        if not fingerprint:
            return ""
        text = f"{self.header}\0{fingerprint}".encode()
        return hashlib.blake2b(text, digest_size=20).hexdigest()


def _probe(root: Path, config: Config) -> _Probe:
    """The files collection will read (its own ``discover``) and the header."""
    try:
        discovered = discover(root, config.analysed_exclude)
    except NothingToAnalyse as exc:
        raise BadInput(str(exc)) from None
    header = {
        "format": _FORMAT,
        "tool": __version__,
        "facts": tool_fingerprint(),
        "analysis": _analysis_fingerprint(),
        "schema": SCHEMA_VERSION,
        "config": config.fingerprint(),
        "prefix": discovered[2],
    }
    return _Probe(discovered, json.dumps(header, sort_keys=True), config.cache_path(root))


@cache
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


_FORMAT = 3
"""Layout of ``analysis.jsonl`` (part of the header: another layout is a miss).
2: each capability is a positional row (:func:`_capability_row`), not a JSON object.
3: sealed by :mod:`analyzers.cachefile` (head included); no root; ctime and inode."""

_MISS = (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)
"""What decoding a cache file may raise: each one is a miss (``RecursionError``: deep
nesting, which the stdlib's JSON parser, orjson's fallback, recurses into)."""


def _analysis_file(cache_dir: Path) -> Path:
    return cache_dir / "analysis.jsonl"


@dataclass(frozen=True, slots=True)
class _Hit:
    """A cached analysis that is still the answer. ``head`` and ``texts``: the file's
    head and capability lines, kept when the stat data it holds are out of date (the
    content decided), so that :func:`_restat` can write it back with current ones."""

    analysis: Analysis
    head: dict[str, Any] | None = None
    texts: Sequence[bytes] = ()


def _load(cache_dir: Path, probe: _Probe) -> _Hit | None:
    """The cached analysis if it is still the answer, else None (never raises).

    Layout (JSON only), after :mod:`analyzers.cachefile`'s seal line, which is checked
    first: line 1 is the head (cache key, stat data, everything but the root and the
    capabilities, and their names); each following line is one ranked capability. Why
    lines: a warm run parses the small head and checksums the capability bytes without
    parsing them (they are decoded lazily, and the seal vouches for them); one JSON
    document would have to be parsed whole, and its capabilities escaped a second time.
    The root is the project's folder now, not where it was when the cache was written.
    """
    payload = cachefile.read(_analysis_file(cache_dir))
    if payload is None:
        return None  # missing, damaged, edited, or another version's: never decode it
    try:
        return _decode(payload, probe)
    except _MISS:
        return None


def _decode(payload: bytes, probe: _Probe) -> _Hit | None:
    """Why no ``partition`` into head and body: copying the body (11 MB on Django)
    cost as much as checking its seal; the lines are split out of the payload itself."""
    head = jsonio.loads(payload[: payload.find(b"\n")])
    if head["header"] != probe.header:
        return None
    stale = head["files"] != probe.files()
    if stale:
        key = probe.key()  # stat data differ: the content decides
        if not key or head["key"] != key:
            return None
    texts = payload.split(b"\n")[1:]
    if texts == [b""]:
        texts = []  # no capability: the head's newline ends the file
    caps = _LazyCapabilities(head["names"], texts)
    if len(caps.names) != len(caps):
        return None
    analysis = from_json({**head["head"], "root": str(probe.base), "capabilities": []})
    analysis = replace(analysis, capabilities=caps)
    return _Hit(analysis, head, texts) if stale else _Hit(analysis)


def _restat(cache_dir: Path, probe: _Probe, hit: _Hit) -> None:
    """After a hit decided by content, store the current stat data (in the analysis
    cache and the facts index): a checkout, a ``touch`` or a copied project costs one
    run that hashes the files, not every run after it."""
    if hit.head is None:
        return
    probe.save_index()
    head = {**hit.head, "files": probe.files()}
    body = b"\n".join(hit.texts)
    cachefile.write(_analysis_file(cache_dir), [jsonio.dumps(head), b"\n", body])


def _store(cache_dir: Path, probe: _Probe, analysis: Analysis, fingerprint: str) -> None:
    head = to_json(analysis, top=0)
    del head["capabilities"], head["root"]  # the root is the folder it is loaded from
    texts = [jsonio.dumps(_capability_row(c)) for c in analysis.capabilities]
    body = b"\n".join(texts)  # JSON text never holds a raw newline: one per line
    first = {
        "header": probe.header,
        "files": probe.files(),
        "key": probe.keyed(fingerprint),
        "head": head,
        "names": [c.name for c in analysis.capabilities],
    }
    # a read-only cache folder must not fail the run: write() reports it, ignored here
    cachefile.write(_analysis_file(cache_dir), [jsonio.dumps(first), b"\n", body])


def _capability_row(c: Capability) -> tuple[Any, ...]:
    """A capability as a positional row, fields in declaration order (components,
    evidence and blockers too): no key repeated ~60,000 times on Django, so about a
    third smaller and faster to write and to read than the report's JSON objects."""
    return (
        c.rank,
        c.name,
        c.anchor,
        c.sources,
        c.score,
        c.entry_points,
        c.members,
        c.size,
        c.tables_read,
        c.tables_written,
        [
            (
                p.name,
                p.value,
                p.score,
                p.weight,
                p.summary,
                [(e.location, e.detail) for e in p.evidence],
                p.evidence_total,
            )
            for p in c.components
        ],
        [(b.kind, b.message, b.location, b.fix, b.severity) for b in c.blockers],
        c.role,
        c.role_reason,
    )


def _capability_from_row(row: Any) -> Capability:
    """Inverse of :func:`_capability_row`; a malformed row raises ValueError/TypeError."""
    (
        rank,
        name,
        anchor,
        sources,
        score,
        entry_points,
        members,
        size,
        tables_read,
        tables_written,
        components,
        blockers,
        role,
        role_reason,
    ) = row
    return Capability(
        rank,
        name,
        anchor,
        tuple(sources),
        score,
        tuple(entry_points),
        tuple(members),
        size,
        tuple(tables_read),
        tuple(tables_written),
        tuple(
            Component(n, v, s, w, summary, tuple([Evidence(*e) for e in ev]), total)
            for n, v, s, w, summary, ev, total in components
        ),
        tuple(Blocker(*b) for b in blockers),
        role,
        role_reason,
    )


class _LazyCapabilities(Sequence[Capability]):
    """Ranked capabilities from the cache, each decoded from its JSON on first use.

    Why: a warm ``analyze --top 20`` or ``explain X`` needs 20 or 1 of thousands of
    capabilities; decoding all of them cost more than the rest of a warm run. They
    were checked on load, undecoded: the file's seal covers every byte of them.
    """

    def __init__(self, names: Sequence[str], texts: Sequence[bytes]) -> None:
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
            self._decoded[index] = _capability_from_row(jsonio.loads(self._texts[index]))
        return self._decoded[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
