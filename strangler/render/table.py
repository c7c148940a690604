"""Rich renderables for the terminal (or a text file: the console decides on colour)."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from analyzers.analysis import Analysis, Capability
from analyzers.scoring import Role
from strangler.render.cells import literal
from strangler.render.common import group_members, key_components

__all__ = ["analysis_table", "explain_table"]

_EXPLAIN_SECTIONS = (
    ("Call sites", "inbound_coupling"),
    ("Calls back into the monolith", "outbound_coupling"),
    ("Tables also written elsewhere", "shared_writes"),
    ("Tables read that others write", "foreign_reads"),
    ("Transactions", "transactions"),
    ("Arguments that are not plain JSON", "serialisability"),
    ("Return value", "fire_and_forget"),
    ("Module-level state", "global_state"),
    ("Side effects", "side_effects"),
    ("Call cycles", "cycles"),
    ("Tests", "tests"),
)


def analysis_table(analysis: Analysis, top: int) -> RenderableType:
    """Names are never wrapped (a dotted name cut over three lines cannot be read or
    pasted into ``explain``): the "costs most (points)" column folds instead."""
    shown = analysis.capabilities[:top]
    table = Table(
        title=literal(f"Extractable capabilities in {analysis.root}"),
        expand=False,
        box=box.SIMPLE_HEAD,
    )
    table.add_column("#", justify="right", no_wrap=True, min_width=len(str(len(shown))))
    widest = max((literal(c.name).cell_len for c in shown), default=10)
    table.add_column("capability", no_wrap=True, min_width=widest)
    for header in ("score", "entry", "lines", "blk"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("costs most (points)", overflow="fold", min_width=10)
    for cap in shown:
        table.add_row(
            str(cap.rank),
            literal(cap.name),
            f"{cap.score:.1f}",
            str(len(cap.entry_points)),
            str(cap.size),
            str(len(cap.blockers)),
            _costs(cap),
        )
    return Group(table, *_footer(analysis, top))


def _costs(cap: Capability) -> str:
    if cap.role == Role.HELPER:
        return "shared helper: copy, don't extract"
    return key_components(cap, limit=3)


def _footer(analysis: Analysis, top: int) -> list[RenderableType]:
    s, q = analysis.stats, analysis.quality
    lines: list[RenderableType] = [
        Text(
            f"showing {min(top, len(analysis.capabilities))} of {len(analysis.capabilities)} "
            f"capabilities; {s.modules} modules, {s.functions} functions, {s.classes} classes, "
            f"{s.tables} tables, {s.calls} calls ({s.unresolved_calls} unresolved)"
        ),
        Text(
            f"proposed partition ({q.partitions} parts incl. the monolith remainder): "
            f"SM {q.structural_modularity:.3f}  ICP {q.inter_call_percentage:.3f}  "
            f"IFN {q.interface_number:.2f}  NED {q.non_extreme_distribution:.3f}"
        ),
    ]
    if analysis.diagnostics:
        diag = Table(title=f"{len(analysis.diagnostics)} files not analysed", expand=False)
        diag.add_column("file")
        diag.add_column("reason")
        for d in analysis.diagnostics:
            diag.add_row(literal(d.where), literal(d.reason))
        lines.append(diag)
    return lines


def explain_table(analysis: Analysis, cap: Capability) -> RenderableType:
    parts: list[RenderableType] = [
        literal(
            f"{cap.name}  score {cap.score:.1f}  rank {cap.rank} of "
            f"{len(analysis.capabilities)}  ({'+'.join(cap.sources)})",
            style="bold",
        ),
        literal("Entry points: " + (", ".join(cap.entry_points) or "none")),
        *([literal(f"Role: {cap.role_reason}", style="bold")] if cap.role_reason else []),
        _moves(cap),
        literal(
            f"Tables read: {', '.join(cap.tables_read) or '-'}; "
            f"written: {', '.join(cap.tables_written) or '-'}"
        ),
        _components(cap),
    ]
    for title, name in _EXPLAIN_SECTIONS:
        section = _evidence(cap, title, name)
        if section is not None:
            parts.append(section)
    parts.append(_blockers(cap))
    return Group(*parts)


def _moves(cap: Capability) -> RenderableType:
    table = Table(title=f"What moves with it ({len(cap.members)} definitions, {cap.size} lines)")
    table.add_column("in")
    table.add_column("definitions")
    for owner, members in group_members(cap).items():
        table.add_row(literal(owner), literal(", ".join(m.rsplit(".", 1)[-1] for m in members)))
    return table


def _components(cap: Capability) -> RenderableType:
    table = Table(title="Score components")
    for header in ("component", "value", "score", "weight", "summary"):
        table.add_column(header)
    for c in cap.components:
        table.add_row(c.name, f"{c.value:g}", f"{c.score:.2f}", f"{c.weight:g}", literal(c.summary))
    return table


def _evidence(cap: Capability, title: str, name: str) -> RenderableType | None:
    component = cap.component(name)
    if not component.evidence:
        return None
    table = Table(title=literal(f"{title}: {component.summary}"))
    table.add_column("where")
    table.add_column("what")
    for e in component.evidence:
        table.add_row(literal(e.location), literal(e.detail))
    if component.evidence_total > len(component.evidence):
        table.add_row("...", f"{component.evidence_total - len(component.evidence)} more")
    return table


def _blockers(cap: Capability) -> RenderableType:
    """Plain lines rather than a table, so each blocker stays one greppable line."""
    if not cap.blockers:
        return Text("Blockers: none")
    lines = [Text(f"Blockers ({len(cap.blockers)}):", style="bold")]
    lines += [literal(f"  {b.location}  {b.message}. Fix: {b.fix}") for b in cap.blockers]
    return Group(*lines)
