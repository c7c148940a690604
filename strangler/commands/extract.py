"""``strangler extract`` and ``strangler retire``: dry-run diffs by default, ``--apply`` writes.

Thin: options -> :mod:`strangler.extract` (plan, changes) -> a unified diff or
:func:`strangler.codemods.apply` (every file or none). Exit codes: 0 done (or nothing to
do), 1 refused for a reason the user can act on (blockers, uncommitted files, a route
that is not ``function``), 2 bad input (unknown path or capability), nothing written.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from strangler.analysis import BadInput
from strangler.codemods import Change, SourceDecodeError, diff
from strangler.config import ConfigError, load_config
from strangler.extract import (
    Invalid,
    Outcome,
    Project,
    Refused,
    celery_app_ref,
    extraction_changes,
    load_project,
    plan_for,
    retire_gate,
    retirement_changes,
    revert_changes,
    target_conflict,
    target_package,
    unknown_feature,
    write_changes,
)
from strangler.plan import FIRE_AND_FORGET, ExtractionPlan
from strangler.render.cells import shown

__all__ = ["extract", "retire"]

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Each line of ``message`` with its control characters as escapes (PATH and names
    from the analysed code are in it)."""
    text = "\n".join(shown(line) for line in message.split("\n"))
    click.echo(f"strangler: error: {text}", err=True)
    sys.exit(code)


def _project(path: str, flags: dict[str, Any]) -> Project:
    root = Path(path)
    if not root.is_dir():
        _fail(f"{path}: no such directory")
    try:
        config = load_config(root, {"target": flags.get("target")}, os.environ)
        return load_project(root, config)
    except (BadInput, ConfigError) as exc:
        _fail(str(exc))


def _target(path: str, given: str | None) -> str:
    if given:
        return given
    try:
        return load_config(Path(path), None, os.environ).target
    except ConfigError as exc:
        _fail(str(exc))


@click.command()
@click.argument("path", type=str)
@click.argument("capability", type=str)
@click.option("--plan", "show_plan", is_flag=True, help="Show the extraction plan, change nothing.")
@click.option("--apply", "do_apply", is_flag=True, help="Write the changes (every file or none).")
@click.option("--force", is_flag=True, help="Extract despite blockers or uncommitted files.")
@click.option("--revert", is_flag=True, help="Remove what a previous extract added.")
@click.option("--target", default=None, help="Folder of the handler packages (default functions).")
@click.option("--celery-app", default=None, help="Reuse the monolith's Celery app (module:app).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def extract(
    path: str,
    capability: str,
    show_plan: bool,
    do_apply: bool,
    force: bool,
    revert: bool,
    target: str | None,
    celery_app: str | None,
    fmt: str,
) -> None:
    """Carve CAPABILITY of the project at PATH into a package of event handlers.

    Dry-run by default: prints the unified diff (new files included). Running it
    twice changes nothing the second time.
    """
    folder = _target(path, target)
    try:  # bad input is refused before the (slow) analysis
        package = target_package(folder)
        if celery_app is not None:
            celery_app_ref(celery_app)
    except BadInput as exc:
        _fail(str(exc))
    try:
        conflict = target_conflict(Path(path), package) if Path(path).is_dir() else None
    except SourceDecodeError as exc:  # an undecodable functions/__init__.py
        _fail(str(exc))
    if conflict and not revert:
        _fail(f"{conflict}; choose a folder of its own (default functions)")
    project = _project(path, {"target": target})
    try:
        plan = plan_for(project, capability, folder)
    except BadInput as exc:
        _fail(str(exc))
    if show_plan:
        _show_plan(plan, fmt)
        refused = plan.unextractable or (plan.blocked and not force)
        sys.exit(EXIT_REFUSED if refused else EXIT_OK)
    if plan.unextractable and not revert:
        lines = "\n".join(f"  - {shown(b)}" for b in plan.unextractable)
        _fail(f"{plan.capability} cannot be extracted (not even with --force):\n{lines}", 1)
    if plan.blocked and not force and not revert:
        lines = "\n".join(f"  - {shown(b)}" for b in plan.blockers)
        _fail(f"{plan.capability} is blocked (use --force to extract anyway):\n{lines}", 1)
    try:
        outcome = (
            revert_changes(project, plan)
            if revert
            else extraction_changes(project, plan, celery_app=celery_app)
        )
    except SourceDecodeError as exc:
        _fail(str(exc))
    _finish(project.root, outcome, do_apply=do_apply, force=force, fmt=fmt)


@click.command()
@click.argument("path", type=str)
@click.argument("feature", type=str)
@click.option("--apply", "do_apply", is_flag=True, help="Write the changes (every file or none).")
@click.option("--force", is_flag=True, help="Write over uncommitted files.")
@click.option("--store", "store_url", default=None, metavar="URL", help="Route store URL.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def retire(
    path: str, feature: str, do_apply: bool, force: bool, store_url: str | None, fmt: str
) -> None:
    """Remove the monolith path of FEATURE once it runs as a function for all traffic.

    Each entry point routed as FEATURE keeps its signature and docstring; its body
    becomes the dispatch-only call. Refused unless the route store says ``function``.
    """
    project = _project(path, {})
    unknown = unknown_feature(project, feature)
    if unknown is not None:
        _fail(unknown.reason)
    gate = retire_gate(feature, store_url)
    if isinstance(gate, Invalid):
        _fail(gate.reason)
    if isinstance(gate, Refused):
        _fail("; ".join(gate.reasons), EXIT_REFUSED)
    try:
        outcome = retirement_changes(project, [feature])
    except SourceDecodeError as exc:
        _fail(str(exc))
    _finish(project.root, outcome, do_apply, force, fmt)


def _finish(root: Path, outcome: Outcome | Refused, do_apply: bool, force: bool, fmt: str) -> None:
    if isinstance(outcome, Refused):  # one reason on the error's line, several below it
        reasons = outcome.reasons
        listed = (
            f" {reasons[0]}" if len(reasons) == 1 else "".join(f"\n  - {shown(r)}" for r in reasons)
        )
        _fail(f"refused:{listed}", EXIT_REFUSED)
    changes = [c for c in outcome.changes if c.kind != "unchanged"]
    for note in outcome.notes:
        click.echo(f"note: {note}", err=True)
    if not do_apply:
        _emit_diff(changes, fmt)
        return
    if not changes:
        click.echo("nothing to change")
        return
    written = write_changes(root, changes, force=force)
    if isinstance(written, Refused):
        _fail("; ".join(written.reasons), EXIT_REFUSED)
    if fmt == "json":
        click.echo(json.dumps({"written": list(written.paths)}, indent=2))
    else:
        count = len(written.paths)
        click.echo(f"wrote {count} file{'' if count == 1 else 's'}:")
        for item in written.paths:
            click.echo(f"  {item}")


def _emit_diff(changes: Sequence[Change], fmt: str) -> None:
    if fmt == "json":
        files = [{"path": c.path, "kind": c.kind} for c in changes]
        click.echo(json.dumps({"changes": files, "diff": diff(changes)}, indent=2))
    elif changes:
        click.echo(diff(changes), nl=False)
    else:
        click.echo("nothing to change", err=True)


def _show_plan(plan: ExtractionPlan, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(plan.to_json(), indent=2))
        return
    _line(f"extraction plan: {plan.capability} -> {plan.package}")
    for entry in plan.entries:
        _line(f"  entry point {entry.qualname}")
        _line(f"    feature {entry.feature}, task {entry.task}")
        if entry.result_used_at:
            why = f"result used at {', '.join(entry.result_used_at)}"
        elif entry.call_sites or entry.style == FIRE_AND_FORGET:
            why = "no call site uses the result"
        else:
            why = "no call site in the analysed code: callers outside it may use the result"
        _line(f"    dispatch {entry.style} ({why})")
        args = ", ".join(
            f"{a.name}: {a.kind.value}{f' {a.model}' if a.model else ''}" for a in entry.arguments
        )
        _line(f"    event data: {args or '(no arguments)'}")
    _section("moves (only this capability uses it)", plan.moves)
    _section("copied (pure helpers also used elsewhere)", plan.copies)
    _section("stays (called back from the handler)", plan.stays)
    _section("imported types (keep their identity)", plan.types)
    _section("couplings", plan.couplings)
    _section("CANNOT BE EXTRACTED (not even with --force)", plan.unextractable)
    forcible = [b for b in plan.blockers if b not in plan.unextractable]
    _section("BLOCKERS (refused unless --force)", forcible)


def _section(title: str, items: Sequence[str]) -> None:
    if items:
        _line(f"  {title}:")
        for item in items:
            _line(f"    - {item}")


def _line(text: str) -> None:
    """One line of the plan: names and table names come from the analysed code, so a
    newline or an escape in one is shown as its escape (``\\n``, ``\\x1b``)."""
    click.echo(shown(text))
