"""The figures of the reliability suite, written as JSON and as a markdown table.

Each test adds one row per case (``Report.add``); the session fixture writes
``benchmarks/results/reliability.json`` and ``reliability.md`` at the end (gitignored
output, quoted by the README's reliability section). Rows of cases that did not run in
this session are not invented: the files hold exactly what ran.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


@dataclass
class Report:
    started: float = field(default_factory=time.monotonic)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, case: str, guarantee: str, **figures: Any) -> None:
        self.cases[case] = {"guarantee": guarantee, **figures}

    def write(self, folder: Path = RESULTS) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        data = {
            "generated": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "suite_seconds": round(time.monotonic() - self.started, 1),
            "cases": self.cases,
        }
        json_path, md_path = folder / "reliability.json", folder / "reliability.md"
        json_path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        md_path.write_text(self.markdown(data))
        return json_path, md_path

    def markdown(self, data: dict[str, Any]) -> str:
        lines = [
            "| case | guarantee | figures |",
            "|---|---|---|",
        ]
        for case, row in sorted(self.cases.items()):
            figures = ", ".join(f"{k} {_fmt(v)}" for k, v in row.items() if k != "guarantee")
            lines.append(f"| {case} | {row['guarantee']} | {figures} |")
        lines.append("")
        lines.append(
            f"Suite run {data['generated']}, {data['suite_seconds']} s, Python {data['python']}."
        )
        return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
