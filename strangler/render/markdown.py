"""Markdown reports: for pull requests, wikis and CI artefacts."""

from __future__ import annotations

import re

from analyzers.analysis import Analysis, Capability
from strangler.render.cells import shown
from strangler.render.common import group_members, key_components

__all__ = ["analysis_markdown", "explain_markdown"]


def _cell(text: str) -> str:
    """Text in a table cell: one line, ``|`` escaped (also inside a code span: GFM)."""
    return _text(text).replace("|", "\\|")


def _text(text: str) -> str:
    """Text from the analysed code on one line: each control character (a newline, an
    escape) as its escape, so that it neither ends a list item or a row nor reaches a
    terminal that shows the report."""
    return shown(text)


def _code(text: str) -> str:
    """``text`` as one code span, backticks in it included (CommonMark: a fence longer
    than the longest run of backticks inside, a space inside it when the text starts
    or ends with one)."""
    run = max((len(r) for r in re.findall("`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def analysis_markdown(analysis: Analysis, top: int) -> str:
    s, q = analysis.stats, analysis.quality
    out = [
        f"# Extractable capabilities in {_code(_text(str(analysis.root)))}",
        "",
        f"{s.modules} modules, {s.functions} functions, {s.classes} classes, {s.tables} tables, "
        f"{s.calls} calls ({s.unresolved_calls} unresolved), {len(analysis.capabilities)} "
        f"candidates, {len(analysis.diagnostics)} files not analysed.",
        "",
        "| # | capability | score | from | entry points | lines | writes | what costs points "
        "| blockers |",
        "|---:|---|---:|---|---:|---:|---|---|---:|",
    ]
    for c in analysis.capabilities[:top]:
        out.append(
            f"| {c.rank} | {_code(_cell(c.name))} | {c.score:.1f} | {'+'.join(c.sources)} | "
            f"{len(c.entry_points)} | {c.size} | {_cell(', '.join(c.tables_written))} | "
            f"{_cell(_costs(c))} | {len(c.blockers)} |"
        )
    out += [
        "",
        "## Partition quality (Mono2Micro)",
        "",
        f"Proposed: {', '.join(_code(_text(p)) for p in analysis.proposed) or 'none'} "
        "plus the monolith remainder.",
        "",
        "| SM | ICP | IFN | NED |",
        "|---:|---:|---:|---:|",
        f"| {q.structural_modularity:.3f} | {q.inter_call_percentage:.3f} | "
        f"{q.interface_number:.2f} | {q.non_extreme_distribution:.3f} |",
    ]
    if analysis.diagnostics:
        out += ["", "## Files not analysed", "", "| file | reason |", "|---|---|"]
        for d in analysis.diagnostics:
            out.append(f"| {_code(_cell(d.where))} | {_cell(d.reason)} |")
    return "\n".join(out) + "\n"


def _costs(c: Capability) -> str:
    if c.role != "capability":
        return "shared helper: copy, don't extract"
    return key_components(c)


def explain_markdown(analysis: Analysis, cap: Capability) -> str:
    out = [
        f"# {_code(_text(cap.name))}",
        "",
        f"Score **{cap.score:.1f}**, rank {cap.rank} of {len(analysis.capabilities)} "
        f"(from {'+'.join(cap.sources)}).",
        "",
        "## Entry points",
        "",
        *(f"- {_code(_text(e))}" for e in cap.entry_points or ("none",)),
        "",
        f"## What moves with it ({len(cap.members)} definitions, {cap.size} lines)",
        "",
        *(
            f"- {_code(_text(owner))}: {_text(', '.join(m.rsplit('.', 1)[-1] for m in members))}"
            for owner, members in group_members(cap).items()
        ),
        "",
        _text(
            f"Tables read: {', '.join(cap.tables_read) or '-'}; "
            f"written: {', '.join(cap.tables_written) or '-'}."
        ),
        "",
        "## Score components",
        "",
        "| component | value | score | weight | summary |",
        "|---|---:|---:|---:|---|",
        *(
            f"| {c.name} | {c.value:g} | {c.score:.2f} | {c.weight:g} | {_cell(c.summary)} |"
            for c in cap.components
        ),
    ]
    for c in cap.components:
        if c.evidence:
            out += ["", f"### {c.name}", ""]
            out += [f"- {_code(_text(e.location))} {_text(e.detail)}" for e in c.evidence]
            if c.evidence_total > len(c.evidence):
                out.append(f"- ... {c.evidence_total - len(c.evidence)} more")
    out += ["", "## Blockers", ""]
    out += [
        f"- {_code(_text(b.location))} {_text(f'{b.message}: {b.fix}')}" for b in cap.blockers
    ] or ["None."]
    return "\n".join(out) + "\n"
