"""Shared measurement types and the report writer for ``make bench``."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Measurement", "fresh_parse_cpu", "write_report"]

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


# Read every file first, then time only the parse loop. Nothing but ast and pathlib is
# imported and the cyclic GC is left on, as in a plain ``ast.parse`` loop.
_PARSE_LOOP = """\
import ast, pathlib, sys, time
sources = [pathlib.Path(p).read_bytes() for p in sys.stdin.read().splitlines()]
start = time.process_time()
for source in sources:
    ast.parse(source)
print(time.process_time() - start)
"""


def fresh_parse_cpu(files: list[Path]) -> float:
    """CPU seconds of ``ast.parse`` over ``files``' bytes, timed in a fresh interpreter.

    The baseline of the analysis ratios. Not timed in the benchmark's own process: there
    the cyclic GC, triggered by the parser's allocations, walks everything the benchmark
    has imported (strangler, networkx, rich...) and the same loop takes ~1.5x as long,
    which flatters every ratio taken against it (the analysis pauses the GC, so it does
    not pay that).
    """
    out = subprocess.run(
        [sys.executable, "-c", _PARSE_LOOP],
        input="\n".join(str(f) for f in files),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.strip())


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
