"""Small helpers shared by the text renderers."""

from __future__ import annotations

from analyzers.analysis import Capability
from analyzers.scoring import Component

__all__ = ["SHORT", "component_line", "group_members", "key_components"]

SHORT = {
    "inbound_coupling": "in",
    "outbound_coupling": "out",
    "shared_writes": "shared-w",
    "foreign_reads": "foreign-r",
    "cycles": "cycles",
    "interface_width": "iface",
    "serialisability": "non-json",
    "fire_and_forget": "f&f",
    "transactions": "txn",
    "global_state": "globals",
    "side_effects": "effects",
    "size": "lines",
    "tests": "tested",
}


def key_components(cap: Capability, limit: int = 5) -> str:
    """The components that cost the most points, with the points each costs:
    ``shared-w -9.5 · txn -4.1``.

    Points, not the component's value: a component can cost points for what is
    missing (no side effects to take off the request path, no call site that ignores
    the result), and "effects 0" under "costs most" read as a contradiction. The
    points are out of the 100 of a perfect score, before any blocker's factor, so
    the shown ones and the score add up; a component that costs nothing is left out.
    """
    total = sum(c.weight for c in cap.components) or 1.0
    lost = [(100.0 * c.weight * (1.0 - c.score) / total, c.name) for c in cap.components]
    costly = sorted((p for p in lost if round(p[0], 1) > 0), key=lambda p: -p[0])[:limit]
    return " · ".join(f"{SHORT.get(name, name)} -{points:.1f}" for points, name in costly) or "-"


def component_line(c: Component) -> str:
    return f"{c.name}: {c.summary} (score {c.score:.2f} x weight {c.weight:g})"


def group_members(cap: Capability) -> dict[str, list[str]]:
    """Members grouped by the module they live in (longest module prefix)."""
    grouped: dict[str, list[str]] = {}
    for member in cap.members:
        module = member.rsplit(".", 1)[0]
        grouped.setdefault(module, []).append(member)
    return grouped
