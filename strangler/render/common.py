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
    """The components that cost the most points, compactly: ``shared-w 1 · txn 2``."""
    costly = sorted(cap.components, key=lambda c: -(1 - c.score) * c.weight)[:limit]
    return " · ".join(f"{SHORT.get(c.name, c.name)} {_num(c.value)}" for c in costly)


def component_line(c: Component) -> str:
    return f"{c.name}: {c.summary} (score {c.score:.2f} x weight {c.weight:g})"


def _num(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def group_members(cap: Capability) -> dict[str, list[str]]:
    """Members grouped by the module they live in (longest module prefix)."""
    grouped: dict[str, list[str]] = {}
    for member in cap.members:
        module = member.rsplit(".", 1)[0]
        grouped.setdefault(module, []).append(member)
    return grouped
