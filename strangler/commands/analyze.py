"""``strangler analyze``, ``strangler explain`` and ``strangler graph``.

Thin: options -> :func:`strangler.config.load_config` -> use case
(:mod:`strangler.analysis`) -> renderer -> stdout or an atomically written file.
Errors the user can fix (missing path, no Python, unknown capability, bad option
value) are one line on stderr and exit 2; nothing is written.
"""

from __future__ import annotations

import atexit
import functools
import gc
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from analyzers import paused_gc
from analyzers.analysis import Analysis, find_capability, why_not_found
from analyzers.graph import FORMATS as GRAPH_FORMATS
from analyzers.graph import export_graph
from strangler.analysis import BadInput, build_project_graph, run_analysis
from strangler.config import Config, ConfigError, load_config
from strangler.files import write_atomic
from strangler.render import (
    analysis_json,
    analysis_markdown,
    analysis_table,
    explain_json,
    explain_markdown,
    explain_table,
)
from strangler.render.cells import shown

__all__ = ["analyze", "explain", "graph"]

REPORT_FORMATS = ("table", "json", "markdown")
EXIT_OK, EXIT_STRICT, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str) -> NoReturn:
    """PATH and names from the analysed code are in ``message``: a control character
    in one is shown as its escape, never sent to the terminal."""
    click.echo(f"strangler: error: {shown(message)}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _stacked(*options: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One decorator applying ``options`` in the order listed (as ``--help`` shows them)."""

    def apply(fn: Any) -> Any:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


_common = _stacked(
    click.option(
        "--jobs",
        "-j",
        type=str,
        default=None,
        metavar="N|auto",
        help=(
            "Parallel parsing processes (default auto: all cores when there are 3 or "
            "more, else in-process; env STRANGLER_JOBS)."
        ),
    ),
    click.option(
        "--no-cache",
        "no_cache",
        is_flag=True,
        default=None,
        help="Ignore and do not write caches (env STRANGLER_CACHE=0).",
    ),
    click.option(
        "--cache-dir",
        type=str,
        default=None,
        help="Cache folder; a relative one is under PATH (default .strangler/cache).",
    ),
    click.option(
        "--exclude",
        multiple=True,
        metavar="GLOB",
        help="Skip files whose path relative to PATH matches (repeatable).",
    ),
    click.option(
        "--weight",
        "weights",
        multiple=True,
        metavar="NAME=NUMBER",
        help="Override one score weight (repeatable; env STRANGLER_WEIGHTS).",
    ),
    click.option(
        "--proposal-size",
        type=click.IntRange(min=1),
        default=None,
        help="Capabilities in the proposed partition (default 10).",
    ),
)
"""Options every analysing command shares; each is also STRANGLER_* and pyproject."""

_report = _stacked(
    click.option(
        "--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True
    ),
    click.option(
        "--output", "-o", type=str, default=None, metavar="FILE", help="Write the report to FILE."
    ),
    click.option(
        "--strict", is_flag=True, default=None, help="Exit 1 when any file could not be analysed."
    ),
)
"""The report options of ``analyze`` and ``explain``."""


def _gc_paused(command: Callable[..., None]) -> Callable[..., None]:
    """The whole command runs with the cyclic GC paused; the previous state comes back
    when it returns.

    Why here: the analysis builds a large acyclic heap (facts, capabilities) that the
    cyclic collector would walk for nothing as soon as the library gives it back
    (rendering allocates): ~45 ms of a warm Django run. A command ends right after, so
    it can keep the collector paused until then, which the library (used by long-lived
    hosts) must not; restoring it keeps an in-process caller (CliRunner) as it was.
    The heap is frozen only at interpreter exit (:func:`_freeze_at_exit`).
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        _freeze_at_exit()
        with paused_gc():
            command(*args, **kwargs)

    return run


@functools.cache
def _freeze_at_exit() -> None:
    """``gc.freeze()`` once the process is ending (atexit), never before.

    Why: the interpreter's final collections then skip the ~100k objects of the loaded
    libraries (django, networkx, rich, libcst) instead of walking and tearing them
    down: ~0.1 s of every ``strangler analyze`` on a 2-core machine. Done in an atexit
    hook rather than when the command returns because a command can run in-process in
    a longer-lived host (CliRunner under pytest), whose heap must stay collectable
    until it too ends. Registered once per process (``functools.cache``).
    """
    atexit.register(gc.freeze)


def _config(path: str, **flags: Any) -> Config:
    if not path.strip():  # ``Path("")`` is the current folder: not what was meant
        _fail("PATH is empty")
    given = {
        "jobs": flags.get("jobs"),
        "cache": False if flags.get("no_cache") else None,
        "cache_dir": flags.get("cache_dir"),
        "exclude": tuple(flags["exclude"]) if flags.get("exclude") else None,
        "weights": list(flags["weights"]) if flags.get("weights") else None,
        "proposal_size": flags.get("proposal_size"),
        "top": flags.get("top"),
        "strict": True if flags.get("strict") else None,
    }
    root = Path(path)
    try:
        return load_config(root if root.is_dir() else root.parent, given, os.environ)
    except ConfigError as exc:
        _fail(str(exc))


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr, only for a human watching (stderr is a terminal)."""
    if not sys.stderr.isatty():
        yield None
        return
    bar = Progress(
        "parsing",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("parsing", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield update


def _analyse(
    path: str, config: Config, accept: Callable[[Analysis], None] | None = None
) -> Analysis:
    with _progress() as progress:
        try:
            return run_analysis(Path(path), config, progress, accept=accept).analysis
        except BadInput as exc:
            _fail(str(exc))


def _has_capability(path: str, name: str) -> Callable[[Analysis], None]:
    """Checked by the use case before it writes any cache: a refused name writes nothing."""

    def check(analysis: Analysis) -> None:
        if find_capability(analysis, name) is None:
            raise BadInput(_unknown_capability(analysis, path, name))

    return check


def _unknown_capability(analysis: Analysis, path: str, name: str) -> str:
    return f"{why_not_found(analysis, name)} (see `strangler analyze {path}`)"


PIPE_WIDTH = 160
"""Width of tables written to a pipe or file when ``COLUMNS`` is not set: rich's
default of 80 cut dotted capability names over several lines; a pager or an editor
shows long lines whole."""


def _pipe_width() -> int | None:
    if sys.stdout.isatty() or "COLUMNS" in os.environ:
        return None  # the terminal's (or the user's) width
    return PIPE_WIDTH


def _emit(text: str | RenderableType, output: str | None) -> None:
    """The report on stdout or into ``output`` (all or nothing).

    Strings from the analysed code may hold lone surrogates (``"\\udcff"`` is valid
    Python): they are written as backslash escapes instead of failing the encoding.
    """
    if output is None:
        _to_stdout(text)
        return
    if not isinstance(text, str):
        buffer = io.StringIO()
        Console(file=buffer, width=200, color_system=None, soft_wrap=True).print(text)
        text = buffer.getvalue()
    try:
        write_atomic(Path(output), text.encode("utf-8", "backslashreplace"))
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")


def _to_stdout(text: str | RenderableType) -> None:
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        if isinstance(text, str):
            click.echo(text, nl=False)
        else:
            Console(soft_wrap=True, width=_pipe_width()).print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # ``strangler analyze . | head``: the reader had enough
        _quiet_stdout()
        sys.exit(EXIT_OK)
    except OSError as exc:  # a full disk, ``> /dev/full``
        _quiet_stdout()
        _fail(f"cannot write to standard output: {exc.strerror or exc}")


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of what is still
    buffered does not fail again with a second, unhandled error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _finish(analysis: Analysis, config: Config) -> None:
    if analysis.diagnostics:
        click.echo(
            f"strangler: {len(analysis.diagnostics)} files could not be analysed "
            "(listed in the report)",
            err=True,
        )
        if config.strict:
            sys.exit(EXIT_STRICT)


@click.command()
@click.argument("path", type=str)
@_report
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=None,
    help="Show the best N (default 20; 0: all; env STRANGLER_TOP).",
)
@_common
@_gc_paused
def analyze(path: str, fmt: str, output: str | None, **flags: Any) -> None:
    """Rank the capabilities of the project at PATH by how easy they are to extract."""
    config = _config(path, **flags)
    analysis = _analyse(path, config)
    top = config.top or len(analysis.capabilities)
    if fmt == "json":
        _emit(analysis_json(analysis, top), output)
    elif fmt == "markdown":
        _emit(analysis_markdown(analysis, top), output)
    else:
        _emit(analysis_table(analysis, top), output)
    _finish(analysis, config)


@click.command()
@click.argument("path", type=str)
@click.argument("capability", type=str)
@_report
@_common
@_gc_paused
def explain(path: str, capability: str, fmt: str, output: str | None, **flags: Any) -> None:
    """Explain one CAPABILITY of the project at PATH: evidence, tables, blockers."""
    config = _config(path, **flags)
    analysis = _analyse(path, config, accept=_has_capability(path, capability))
    cap = find_capability(analysis, capability)
    if cap is None:  # not reached: _has_capability accepted it
        _fail(_unknown_capability(analysis, path, capability))
    if fmt == "json":
        _emit(explain_json(analysis, cap), output)
    elif fmt == "markdown":
        _emit(explain_markdown(analysis, cap), output)
    else:
        _emit(explain_table(analysis, cap), output)
    _finish(analysis, config)


@click.command()
@click.argument("path", type=str)
@click.option(
    "--format", "fmt", type=click.Choice(GRAPH_FORMATS), default="json", show_default=True
)
@click.option(
    "--output", "-o", type=str, default=None, metavar="FILE", help="Write the graph to FILE."
)
@click.option(
    "--strict", is_flag=True, default=None, help="Exit 1 when any file could not be analysed."
)
@_common
@_gc_paused
def graph(path: str, fmt: str, output: str | None, **flags: Any) -> None:
    """Export the dependency graph of the project at PATH (modules, functions, tables).

    Files that could not be analysed are not in the graph; each is named on stderr
    (the graph formats have no place for them), and ``--strict`` makes that exit 1.
    """
    config = _config(path, **flags)
    with _progress() as progress:
        try:
            result = build_project_graph(Path(path), config, progress)
        except BadInput as exc:
            _fail(str(exc))
    _emit(export_graph(result.graph, fmt), output)
    for d in result.diagnostics:
        click.echo(shown(f"strangler: not in the graph: {d.where}: {d.reason}"), err=True)
    if result.diagnostics and config.strict:
        sys.exit(EXIT_STRICT)
