"""Run every ``benchmarks/bench_*.py`` (or those named on the command line)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from benchmarks.harness import Measurement, write_report


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    results: list[Measurement] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        for m in module.run():
            results.append(m)
            verdict = "ok" if m.passed else "MISSED"
            bar = "" if m.bar is None else f"  (bar {m.op} {m.bar:g}: {verdict})"
            print(f"  {m.name}: {m.value:.3g} {m.unit}{bar}", flush=True)
    report = write_report(results)
    print(f"report: {report}")
    return 1 if any(m.passed is False for m in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
