"""Shared measurement types and the report writer for ``make bench``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Measurement", "write_report"]

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Measurement:
    """One figure: ``value`` (in ``unit``) compared with ``bar`` using ``op``.

    ``op`` is "<=" or ">=". ``details`` carries the raw numbers the ratio came from
    (baseline and subject timings, counts, peak memory) so a reader can recompute it.
    """

    name: str
    value: float
    unit: str
    bar: float | None = None
    op: str = "<="
    details: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        if self.bar is None:
            return None
        return self.value <= self.bar if self.op == "<=" else self.value >= self.bar


def write_report(results: list[Measurement]) -> Path:
    """Write ``benchmarks/results/latest.json`` and a markdown table beside it."""
    RESULTS.mkdir(exist_ok=True)
    rows = [{**asdict(m), "passed": m.passed} for m in results]
    (RESULTS / "latest.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["| measurement | value | bar | passed |", "|---|---|---|---|"]
    for m in results:
        bar = "" if m.bar is None else f"{m.op} {m.bar:g}"
        lines.append(f"| {m.name} | {m.value:.3g} {m.unit} | {bar} | {m.passed} |")
    path = RESULTS / "latest.md"
    path.write_text("\n".join(lines) + "\n")
    return path
