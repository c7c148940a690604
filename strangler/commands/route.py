"""``strangler route``: see and change how each feature's calls are routed, live.

``set`` writes the route store that every running monolith process and worker reads
(through its TTL cache), so a change takes effect within about a second, without a
restart, and is recorded in the audit log with who, when, from, to and why.
"""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table

from analyzers.analysis import close_names
from shims.config import load_settings, mask_url
from shims.routing import Mode, Route
from shims.routing import Path as RoutePath
from shims.stats import PathStats
from shims.stores import RouteStore, StoreConfigError, StoreUnavailable, open_store
from shims.stores.base import MISMATCH_SAMPLES, Change, MismatchSample, validate_route
from shims.stores.memory import MemoryStore
from shims.urls import sqlite_file_missing
from strangler.features import declared_features
from strangler.render.cells import literal

__all__ = ["route"]

T = TypeVar("T")

# The CLI is a person waiting, not a request: give a networked store longer to answer.
_CLI_STORE_TIMEOUT = 5.0

_store_option = click.option(
    "--store",
    "store_url",
    metavar="URL",
    default=None,
    help="Route store URL (else STRANGLER_ROUTE_STORE, [tool.strangler] route_store, "
    "sqlite:///.strangler/routes.db).",
)
_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json is for machines.",
)


@click.group("route")
@_store_option
@click.pass_context
def route(ctx: click.Context, store_url: str | None) -> None:
    """Per-feature routing: monolith -> shadow -> canary N% -> function, and back."""
    ctx.obj = store_url


@route.command("list")
@_store_option
@_format_option
@click.pass_context
def list_routes(ctx: click.Context, store_url: str | None, fmt: str) -> None:
    """Every feature that has a route, with its mode."""
    with _opened(ctx, store_url, read_only=True) as store:
        routes = sorted(_guarded(store.all).values(), key=lambda r: r.feature)
        if fmt == "json":
            _print_json({"store": mask_url(store.url), "routes": [_route_json(r) for r in routes]})
            return
        table = Table()
        table.add_column("feature", no_wrap=True)
        table.add_column("mode")
        for r in routes:
            table.add_row(literal(r.feature), _mode_text(r))
        console = _console()
        console.print(f"store: {mask_url(store.url)}", highlight=False)
        console.print(table if routes else "no routes set: every feature runs on the monolith")


@route.command("status")
@_store_option
@_format_option
@click.pass_context
def status(ctx: click.Context, store_url: str | None, fmt: str) -> None:
    """Mode and live counters per feature and path (flushed by the running processes)."""
    with _opened(ctx, store_url, read_only=True) as store:
        routes = _guarded(store.all)
        metrics = _guarded(store.read_metrics)
        features = sorted(routes.keys() | {feature for feature, _ in metrics})
        recent = _recent_mismatches(store, features, metrics)
    if fmt == "json":
        _print_json(
            {
                "store": mask_url(store.url),
                "features": [
                    {**_feature_json(f, routes.get(f), metrics), "recent_mismatches": recent[f]}
                    for f in features
                ],
            }
        )
        return
    console = _console()
    console.print(f"store: {mask_url(store.url)}", highlight=False)
    console.print(_status_table(features, routes, metrics))
    for feature in features:
        if recent[feature]:
            hint = f"{feature}: {recent[feature]} recent mismatches: "
            click.echo(literal(f"{hint}strangler route mismatches {feature}").plain)


def _recent_mismatches(
    store: RouteStore, features: list[str], metrics: dict[tuple[str, str], PathStats]
) -> dict[str, int]:
    """How many mismatch samples the store keeps per feature; asked only of features
    whose counters show a mismatch (the samples travel in the same flush)."""
    counted = {f for (f, _), s in metrics.items() if s.mismatches}
    recent = dict.fromkeys(features, 0)
    for feature in sorted(counted):
        recent[feature] = len(_guarded(functools.partial(store.read_mismatches, feature)))
    return recent


@route.command("set")
@click.argument("feature")
@click.argument("mode")
@click.option("--percent", default=None, metavar="N", help="Canary share, 0-100 (canary only).")
@click.option("--reason", default="", help="Why: recorded in the audit log.")
@click.option("--actor", default=None, help="Who (default: the OS user).")
@_store_option
@click.pass_context
def set_route(
    ctx: click.Context,
    feature: str,
    mode: str,
    percent: str | None,
    reason: str,
    actor: str | None,
    store_url: str | None,
) -> None:
    """Route FEATURE to MODE (monolith, shadow, canary, function); takes effect live."""
    new = _checked(lambda: validate_route(feature, mode.lower(), _parse_percent(percent)))
    with _opened(ctx, store_url) as store:
        change = _guarded(lambda: store.set(new, actor=actor or _os_user(), reason=reason))
        unseen = _unseen(store, feature) if change.before is None else None
    before = "unset (monolith)" if change.before is None else _mode_text(change.before)
    click.echo(f"{feature}: {before} -> {_mode_text(change.after)} (by {change.actor})")
    if unseen is not None:
        _warn_unseen(feature, *unseen)


def _unseen(store: RouteStore, feature: str) -> tuple[list[str], bool] | None:
    """None when ``feature`` is known: a running process reported calls of it, or the
    code here routes it. Else the names it may be a misspelling of (maybe none), and
    whether code was looked at (the current folder is a project's).

    Only asked the first time a feature gets a route: a typo then is a route nothing
    reads, shown as set while every call stays on the monolith. A store outage here
    skips the check (the route is already set)."""
    try:
        reported = {name for name, _ in store.read_metrics()}
        routed = set(store.all())
    except StoreUnavailable:
        return None
    if feature in reported:
        return None
    declared = declared_features(Path.cwd())
    if declared is not None and feature in declared:
        return None
    known = (declared or frozenset()) | reported | routed
    return close_names(feature, sorted(known - {feature})), declared is not None


def _warn_unseen(feature: str, close: list[str], looked: bool) -> None:
    code = (
        f"no code under {Path.cwd()} calls routed({feature!r}, ...)"
        if looked
        else f"{Path.cwd()} is no project folder, so no code was checked"
    )
    hint = _did_you_mean(close)
    click.echo(
        f"strangler: warning: nothing routes {feature!r} yet: {code} and no running "
        f"process has reported it, so a misspelt name would move no traffic{hint}",
        err=True,
    )


def _did_you_mean(close: list[str]) -> str:
    """``; did you mean 'a' or 'b'?`` for the names a feature may be a misspelling of."""
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


@route.command("history")
@click.argument("feature")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@_store_option
@_format_option
@click.pass_context
def history(ctx: click.Context, feature: str, limit: int, store_url: str | None, fmt: str) -> None:
    """The audit log of FEATURE, newest first: who, when, from, to, why."""
    with _opened(ctx, store_url, read_only=True) as store:
        changes = _guarded(lambda: store.history(feature, limit))
    if not changes:
        _fail(f"unknown feature {feature!r}: no route changes recorded in {mask_url(store.url)}")
    if fmt == "json":
        _print_json({"store": mask_url(store.url), "changes": [c.to_dict() for c in changes]})
        return
    _console().print(_history_table(feature, changes))


@route.command("mismatches")
@click.argument("feature")
@click.option(
    "--limit",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help=f"How many, newest first (the store keeps the last {MISMATCH_SAMPLES}).",
)
@_store_option
@_format_option
@click.pass_context
def list_mismatches(
    ctx: click.Context, feature: str, limit: int, store_url: str | None, fmt: str
) -> None:
    """Recent shadow mismatches of FEATURE, newest first: both values side by side."""
    with _opened(ctx, store_url, read_only=True) as store:
        found = _guarded(lambda: store.read_mismatches(feature, limit))
        metrics = {} if found else _guarded(store.read_metrics)
        routes = {} if found else _guarded(store.all)
    if not found and feature not in routes and all(f != feature for f, _ in metrics):
        names = sorted(routes.keys() | {f for f, _ in metrics})
        hint = _did_you_mean(close_names(feature, names))
        _fail(
            f"unknown feature {feature!r}: no route, no calls and no mismatches recorded "
            f"in {mask_url(store.url)}{hint}"
        )
    if fmt == "json":
        _print_json(
            {
                "store": mask_url(store.url),
                "feature": feature,
                "mismatches": [m.to_dict() for m in found],
            }
        )
        return
    console = _console()
    if not found:
        click.echo(literal(_no_mismatches(feature, metrics, mask_url(store.url))).plain)
        return
    console.print(_mismatch_table(feature, found))
    more = len(found) == limit < MISMATCH_SAMPLES
    click.echo(
        (f"--limit {MISMATCH_SAMPLES} shows all that are kept. " if more else "")
        + "To dig deeper, grep the logs for an event id: the process named logged the "
        "mismatch at WARNING (logger shims.dispatch), and the Celery worker's log shows "
        "the candidate's run under the same id (its task id)."
    )


def _no_mismatches(feature: str, metrics: dict[tuple[str, str], PathStats], url: str) -> str:
    shadow = metrics.get((feature, RoutePath.SHADOW.value))
    if shadow is None:
        return (
            f"{feature}: no shadow mismatches recorded in {url}; it has not run in shadow "
            f"mode yet (strangler route set {feature} shadow)"
        )
    if shadow.mismatches:
        return (
            f"{feature}: {shadow.mismatches} shadow mismatches counted, but none kept in {url}: "
            "sent by processes running an older strangler, or dropped while the store "
            "could not be reached"
        )
    return f"{feature}: no shadow mismatches recorded in {url} ({shadow.calls} shadow calls)"


# ---------------------------------------------------------------- rendering


def _mode_text(r: Route) -> str:
    return f"canary {r.percent}%" if r.mode is Mode.CANARY else r.mode.value


def _route_json(r: Route) -> dict[str, Any]:
    return {"feature": r.feature, "mode": r.mode.value, "percent": r.percent}


def _feature_json(
    feature: str, r: Route | None, metrics: dict[tuple[str, str], PathStats]
) -> dict[str, Any]:
    shown = r or Route(feature)
    paths = [s.to_dict() for (f, _), s in sorted(metrics.items()) if f == feature]
    return {**_route_json(shown), "route_set": r is not None, "paths": paths}


def _status_table(
    features: list[str],
    routes: dict[str, Route],
    metrics: dict[tuple[str, str], PathStats],
) -> Table:
    table = Table()
    for name in ("feature", "mode", "path"):
        table.add_column(name, no_wrap=True)
    for name in ("calls", "errors", "fallbacks", "mismatches", "p50 ms", "p99 ms"):
        table.add_column(name, justify="right")
    for feature in features:
        mode = _mode_text(routes.get(feature) or Route(feature))
        rows = [s for (f, _), s in sorted(metrics.items()) if f == feature]
        if not rows:
            table.add_row(literal(feature), mode, "-", "0", "0", "0", "0", "-", "-")
        for s in rows:
            d = s.to_dict()
            table.add_row(
                literal(feature),
                mode,
                literal(s.path),
                *(str(d[k]) for k in ("calls", "errors", "fallbacks", "mismatches")),
                _ms(d["p50_ms"]),
                _ms(d["p99_ms"]),
            )
            feature, mode = "", ""  # print the feature once per group of paths
    return table


def _history_table(feature: str, changes: list[Change]) -> Table:
    table = Table(title=literal(f"history of {feature}"), title_justify="left")
    for name in ("when (UTC)", "who", "from", "to", "why"):
        table.add_column(name)
    for c in changes:
        before = "unset" if c.before is None else _mode_text(c.before)
        when = c.at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(when, literal(c.actor), before, _mode_text(c.after), literal(c.reason))
    return table


def _mismatch_table(feature: str, found: list[MismatchSample]) -> Table:
    title = literal(f"shadow mismatches of {feature}, newest first")
    table = Table(title=title, title_justify="left", show_lines=True)
    for name in ("seen (UTC)", "field", "event id", "process"):
        table.add_column(name, no_wrap=name == "seen (UTC)", overflow="fold")
    for name in ("monolith", "function"):
        table.add_column(name, overflow="fold", ratio=1)
    for m in found:
        table.add_row(
            m.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            literal(m.field),
            literal(m.event_id),
            literal(m.process),
            literal(m.monolith),
            literal(m.function),
        )
    return table


def _ms(value: object) -> str:
    return "-" if value is None else f"{value:g}"


def _print_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2))


def _console() -> Console:
    # Piped output (CI logs, tests) gets a wide, uncoloured table instead of 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=200, no_color=True)


# ---------------------------------------------------------------- plumbing


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"strangler: error: {message}", err=True)
    raise click.exceptions.Exit(code)


def _checked(make: Callable[[], T]) -> T:
    try:
        return make()
    except ValueError as exc:
        _fail(str(exc))


def _guarded(call: Callable[[], T]) -> T:
    """Run a store call; an outage is a one-line error (exit 1), never a traceback."""
    try:
        return call()
    except StoreUnavailable as exc:
        _fail(str(exc), code=1)


@contextmanager
def _opened(
    ctx: click.Context, store_url: str | None, *, read_only: bool = False
) -> Iterator[RouteStore]:
    url = store_url if store_url is not None else ctx.obj
    if url is not None and not url.strip():
        # An empty --store (an unset shell variable) must not mean the default store.
        _fail("--store is empty: give a route store URL or leave the option out")
    settings = _checked(lambda: load_settings({"route_store_url": url} if url else None))
    if settings.route_store_url.startswith("memory:"):
        _fail(
            "a memory:// route store lives in one process and dies with it: a change made "
            "by this command would be gone when it exits; use sqlite:///... or redis://..."
        )
    if read_only and sqlite_file_missing(settings.route_store_url):
        # Reading must not create the store: a SQLite file that does not exist yet is
        # an empty store (no routes, no history, no metrics), shown under its own URL.
        yield MemoryStore(settings.route_store_url)
        return
    try:
        store = open_store(settings.route_store_url, timeout=_CLI_STORE_TIMEOUT)
    except StoreConfigError as exc:
        _fail(str(exc))
    except StoreUnavailable as exc:
        _fail(str(exc), code=1)
    except ValueError as exc:  # the backend's own URL parsing, e.g. ?socket_timeout=abc
        _fail(f"bad route store URL {mask_url(settings.route_store_url)}: {exc}")
    try:
        yield store
    finally:
        store.close()


def _parse_percent(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"--percent must be a whole number 0-100, got {raw!r}") from None


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return "unknown"
