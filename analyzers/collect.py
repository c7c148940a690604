"""Facts of a whole project: discover files, parse (cached, in parallel), link.

``collect(root, options)`` is the one entry point the CLI and the graph build use.
Per file: its content key (:mod:`analyzers.cache`) finds cached facts, otherwise it is
parsed (:func:`analyzers.parse.facts_from_source`), across a process pool when there
are enough files to pay for one. Then :func:`analyzers.link.link` resolves references
across modules. When no file changed since the last run, the linked result itself is
loaded from the cache and nothing is parsed or linked again.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from analyzers import jsonio
from analyzers._gc import paused_gc
from analyzers.cache import FactsCache
from analyzers.codec import decode, encode
from analyzers.facts import Diagnostic, ModuleFacts
from analyzers.link import link
from analyzers.parse import facts_from_source, module_name

__all__ = [
    "CollectOptions",
    "CollectStats",
    "Collection",
    "Discovered",
    "NothingToAnalyse",
    "collect",
    "discover",
]

POOL_MIN_FILES = 150
"""Below this many files to parse, a process pool costs more than it saves."""

POOL_MIN_CORES = 3
"""Without an explicit ``jobs``, a pool is used only with at least this many usable cores.

Why: the parent parses a share too, so 2 cores mean one worker, and on Django's source
(885 files, ``strangler analyze --no-cache``) that bought ~0.25-0.3 s of a ~2.6 s wall
time for 0.1-0.3 s more CPU (fork, JSON round trip of the worker's facts, decoding them
here), and less than that on a shared, busy 2-core machine, where the analysis is
judged by its CPU cost. An explicit ``jobs=N`` is always honoured."""

_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "build", "dist"})
"""Never project code: caches, vendored installs, build copies. Hidden folders (``.git``,
``.venv``, ``.strangler``) and top-level virtualenvs (``pyvenv.cfg`` inside) are skipped
too."""

_PACKAGE_NAMES = frozenset({"build", "dist"})
"""Of :data:`_SKIP_DIRS`, the names a project's own package may have (a Django app
``build``): skipped only when no ``__init__.py`` makes them one (setuptools' ``build/``
and ``dist/`` have none)."""


class NothingToAnalyse(ValueError):
    """The path does not exist, is not a directory/.py file, or holds no Python."""


@dataclass(frozen=True, slots=True)
class CollectOptions:
    jobs: int | None = None  # processes; None: all cores if >= POOL_MIN_CORES, else 1
    cache_dir: Path | None = None  # None: ROOT/.strangler/cache
    use_cache: bool = True
    excludes: tuple[str, ...] = ()  # globs on the path relative to root (dirs or files)
    progress: Callable[[int, int], None] | None = None  # (done, total) as files are parsed
    write_cache: bool = True
    """False: read the cache, but hold this run's writes until ``Collection.save_cache()``,
    so that a caller which may still refuse the project (no file analysable, an unknown
    capability) writes nothing when it does."""
    snapshot_after_parse: bool = True
    """False: write the linked snapshot (``linked.json``) only when every file's facts
    came from the cache, not in a run that parsed. For a caller that caches its own
    result over the same files (``strangler.analysis``): after a cold run its cache
    answers the next run and the snapshot would be read only if that result is
    recomputed over unchanged files (other weights, say); that run writes it, for the
    ones after it. On Django's source the snapshot is ~0.12 s of a ~2.7 s cold run."""


@dataclass(frozen=True, slots=True)
class CollectStats:
    files: int  # Python files found
    parsed: int  # files parsed this run (the rest came from the cache)
    from_cache: int
    lines: int
    seconds: float  # wall clock
    cpu_seconds: float = 0.0  # this process plus worker processes
    diagnostics: int = 0
    calls: int = 0
    unresolved_calls: int = 0
    jobs: int = 1  # processes that parsed (1: in-process)
    linked_from_cache: bool = False


@dataclass(frozen=True, slots=True)
class Collection:
    root: Path
    modules: tuple[ModuleFacts, ...]
    diagnostics: tuple[Diagnostic, ...]
    stats: CollectStats = field(compare=False)
    fingerprint: str = field(default="", compare=False)
    """Hash of every file's content key (see ``FactsCache.fingerprint``); ``""`` without
    a cache or when a file could not be read."""
    pending: FactsCache | None = field(default=None, compare=False, repr=False)
    """The cache writes held back by ``CollectOptions(write_cache=False)``."""

    def save_cache(self) -> None:
        """Write what ``CollectOptions(write_cache=False)`` held back (else nothing)."""
        if self.pending is not None:
            self.pending.save()


@dataclass(frozen=True, slots=True)
class _Source:
    """A discovered file and its stat data: all the facts cache's index compares."""

    relpath: str
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    prefix: str = ""

    @property
    def module(self) -> str:
        """Computed when needed: a warm run never asks (it runs on every file, every run)."""
        return module_name(self.relpath, self.prefix)


Discovered = tuple[Path, list[_Source], str]
"""What :func:`discover` returns: the base folder, its Python files, the module prefix."""


def discover(root: Path, excludes: Sequence[str] = ()) -> Discovered:
    """Python files under ``root`` (sorted), and the module-name prefix.

    When ``root`` is itself a package (has ``__init__.py``) its name prefixes module
    names, as Python would name them (``django/db/models/base.py`` ->
    ``django.db.models.base``); a project folder (no ``__init__.py``) does not.
    """
    root = Path(root)
    if not root.exists():
        raise NothingToAnalyse(f"{root}: no such file or directory")
    if root.is_file():
        if root.suffix != ".py":
            raise NothingToAnalyse(f"{root}: not a Python file")
        st = root.stat()
        return (
            root.parent,
            [_Source(root.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)],
            "",
        )
    prefix = root.resolve().name if (root / "__init__.py").is_file() else ""
    sources = sorted(_walk(root, "", tuple(excludes), prefix), key=lambda s: s.relpath)
    if not sources:
        raise NothingToAnalyse(f"{root}: no Python files to analyse")
    return root, sources, prefix


def _walk(root: Path, rel: str, excludes: tuple[str, ...], prefix: str) -> Iterator[_Source]:
    """Depth-first over plain strings and DirEntry (no Path objects: this runs every time;
    Django's tree has 2,400 folders, mostly translations)."""
    stack = [(str(root), rel)]
    while stack:
        directory, rel = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.endswith(".py"):
                relpath = f"{rel}/{name}" if rel else name
                if (not excludes or not _excluded(relpath, excludes)) and entry.is_file():
                    st = entry.stat()
                    yield _Source(
                        relpath, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, prefix
                    )
            elif (
                name[0] != "."
                and (
                    name not in _SKIP_DIRS
                    or (
                        name in _PACKAGE_NAMES
                        and os.path.exists(os.path.join(entry.path, "__init__.py"))
                    )
                )
                and entry.is_dir(follow_symlinks=False)
            ):
                relpath = f"{rel}/{name}" if rel else name
                if excludes and _excluded(relpath, excludes):
                    continue
                if not rel and os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
                    continue  # a virtualenv beside the code (looked for at the top only)
                stack.append((entry.path, relpath))


def _excluded(relpath: str, excludes: tuple[str, ...]) -> bool:
    """A glob matches the relative path or the file/folder name (``fnmatchcase`` rules).

    The path is also tried with a leading ``/``, so that ``*/migrations/*`` (the
    default) excludes ``migrations/0001.py`` when PATH is the app folder itself, as
    it does ``shop/migrations/0001.py`` when PATH is the project.
    """
    match = _exclusion_pattern(excludes)
    return (
        match(relpath) is not None
        or match("/" + relpath) is not None
        or match(relpath.rpartition("/")[2]) is not None
    )


@functools.cache
def _exclusion_pattern(excludes: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """All globs as one compiled regex: discovery tests every file and folder name."""
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in excludes)).match


def collect(
    root: Path,
    options: CollectOptions | None = None,
    *,
    discovered: Discovered | None = None,
) -> Collection:
    """All facts of the project at ``root``, linked. Raises only NothingToAnalyse.

    ``discovered``: what :func:`discover` returned for ``root`` and ``options.excludes``
    moments ago, when the caller needed it first (walking Django's 2,400 folders twice
    costs as much as loading a warm analysis).
    """
    options = options or CollectOptions()
    started, cpu0, child0 = time.perf_counter(), time.process_time(), _children_cpu()
    base, sources, prefix = discovered or discover(Path(root), options.excludes)
    cache = (
        FactsCache.open(options.cache_dir or base / ".strangler" / "cache", prefix)
        if options.use_cache
        else None
    )
    with paused_gc():
        result = _collect(base, sources, cache, options)
    modules, diagnostics, parsed, jobs, linked_hit, fingerprint = result
    pending = cache if cache is not None and not linked_hit and not options.write_cache else None
    calls = sum(len(m.calls) for m in modules)
    stats = CollectStats(
        files=len(sources),
        parsed=parsed,
        from_cache=len(sources) - parsed,
        lines=sum(m.lines for m in modules),
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu0 + _children_cpu() - child0,
        diagnostics=len(diagnostics),
        calls=calls,
        unresolved_calls=sum(1 for m in modules for c in m.calls if c.callee is None),
        jobs=jobs,
        linked_from_cache=linked_hit,
    )
    return Collection(base, modules, diagnostics, stats, fingerprint, pending)


def _collect(
    base: Path,
    sources: list[_Source],
    cache: FactsCache | None,
    options: CollectOptions,
) -> tuple[tuple[ModuleFacts, ...], tuple[Diagnostic, ...], int, int, bool, str]:
    keys, read = cache.keys(base, sources) if cache is not None else ({}, {})
    fingerprint = cache.fingerprint(keys) if cache is not None else ""
    if cache is not None:
        linked = cache.load_linked(keys)
        if linked is not None:
            _report(options, len(sources), len(sources))
            return linked[0], linked[1], 0, 1, True, fingerprint
    results: dict[str, ModuleFacts | Diagnostic] = {}
    todo: list[_Source] = []
    for src in sources:
        hit = cache.load(keys[src.relpath]) if cache is not None else None
        if hit is None:
            todo.append(src)
        else:
            results[src.relpath] = hit
    _report(options, len(results), len(sources))
    jobs = _jobs(options.jobs, len(todo))
    progress = _Progress(options, len(results), len(sources))
    if jobs > 1:
        parsed = _parse_in_pool(base, todo, jobs, cache, keys, read, progress)
    else:
        parsed = _parse_here(base, todo, cache, keys, read, progress)
    results.update(parsed)
    modules = [r for s in sources if isinstance(r := results[s.relpath], ModuleFacts)]
    diagnostics = tuple(r for s in sources if isinstance(r := results[s.relpath], Diagnostic))
    linked_modules = link(modules)
    if cache is not None:
        if options.snapshot_after_parse or not todo:
            cache.store_linked(keys, linked_modules, diagnostics)
        if options.write_cache:
            cache.save()
    return linked_modules, diagnostics, len(todo), jobs, False, fingerprint


def _jobs(requested: int | None, todo: int) -> int:
    if requested is None:
        cores = _usable_cores()
        jobs = cores if cores >= POOL_MIN_CORES else 1
    else:
        jobs = requested
    if jobs <= 1 or todo < POOL_MIN_FILES or sys.platform == "win32":
        return 1
    return min(jobs, max(2, todo // (POOL_MIN_FILES // 2)))


def _usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def _report(options: CollectOptions, done: int, total: int) -> None:
    if options.progress is not None:
        options.progress(done, total)


class _Progress:
    """Counts parsed files and tells ``options.progress`` about them."""

    def __init__(self, options: CollectOptions, done: int, total: int) -> None:
        self.options, self.done, self.total = options, done, total

    def advance(self, count: int = 1) -> None:
        self.done += count
        _report(self.options, self.done, self.total)


def _read(base: Path, src: _Source) -> bytes | Diagnostic:
    try:
        return (base / src.relpath).read_bytes()
    except OSError as exc:
        return Diagnostic(src.relpath, f"cannot read: {exc.strerror or exc}")


def _parse_one(base: Path, src: _Source) -> tuple[ModuleFacts | Diagnostic, bytes | None]:
    data = _read(base, src)
    if isinstance(data, Diagnostic):
        return data, None
    return facts_from_source(data, module=src.module, path=src.relpath), data


def _parse_here(
    base: Path,
    todo: list[_Source],
    cache: FactsCache | None,
    keys: dict[str, str],
    read: dict[str, bytes],
    progress: _Progress,
) -> dict[str, ModuleFacts | Diagnostic]:
    out: dict[str, ModuleFacts | Diagnostic] = {}
    for src in todo:
        data = read.pop(src.relpath, None)
        if data is None:
            facts, data = _parse_one(base, src)
        else:
            facts = facts_from_source(data, module=src.module, path=src.relpath)
        out[src.relpath] = facts
        if cache is not None and data is not None:
            cache.store(keys.get(src.relpath) or cache.key_for(src, data), encode(facts))
        progress.advance()
    return out


def _parse_in_pool(
    base: Path,
    todo: list[_Source],
    jobs: int,
    cache: FactsCache | None,
    keys: dict[str, str],
    read: dict[str, bytes],
    progress: _Progress,
) -> dict[str, ModuleFacts | Diagnostic]:
    """``jobs - 1`` workers and this process share the files.

    This process parses its share directly (no encode/decode round trip) while the
    workers parse theirs; worker results come back as JSON (never pickled objects),
    are decoded here and go to the cache as they are.
    """
    import multiprocessing

    workers = jobs - 1
    mine = todo[::jobs]
    theirs = [src for i, src in enumerate(todo) if i % jobs]
    chunks = [theirs[i :: workers * 4] for i in range(workers * 4)]
    # fork: workers start with analyzers imported, and their CPU time lands in this
    # process's RUSAGE_CHILDREN (CollectStats.cpu_seconds counts it)
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_worker, str(base), chunk) for chunk in chunks if chunk]
        out = _parse_here(base, mine, cache, keys, read, progress)
        for future in futures:
            batch = future.result()
            for relpath, text in batch:
                encoded = jsonio.loads(text)
                out[relpath] = decode(encoded)
                if cache is not None:
                    cache.store(keys.get(relpath, ""), encoded)
            progress.advance(len(batch))
    return out


def _worker(base: str, chunk: list[_Source]) -> list[tuple[str, bytes]]:
    results = []
    with paused_gc():
        for src in chunk:
            facts, _ = _parse_one(Path(base), src)
            results.append((src.relpath, jsonio.dumps(encode(facts))))
    return results


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
