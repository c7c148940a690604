"""Fact extraction on Django's own source (issue 3): CPU time against ``ast.parse``.

Corpus: the installed ``django`` package (5.2.x: ~885 files, ~159k lines). Baseline:
``ast.parse`` of every file's bytes (already read; each tree dropped, as a parser
would), CPU time, in this same run but in a fresh interpreter that imports only
``ast`` and ``pathlib`` and leaves the cyclic GC on, as a plain parse loop would
(``benchmarks.harness.fresh_parse_cpu``). Timed in this process instead, the loop is
up to ~1.5x slower: the GC that the parser's allocations trigger walks everything this
process has imported and built, while the analysis pauses the GC and does not pay
that, so such a baseline flatters every ratio. Subjects, CPU time of this process *plus* every
worker process (``CollectStats.cpu_seconds``: process time + ``RUSAGE_CHILDREN``):

- ``cold``: ``collect()`` with an empty cache and the default ``jobs`` (all cores):
  discovery, reading, hashing, parsing, extraction, linking, and writing the cache.
  Bar: <= 2.0 x baseline.
- ``cold, in-process``: the same with ``jobs=1`` (no pool: no IPC, less CPU, more wall).
- ``warm``: ``collect()`` again, nothing changed. Bar: <= 0.3 x baseline.
- peak memory: max RSS of a fresh interpreter running one cold ``collect(jobs=1)``.

Each ratio is taken per round (one baseline subprocess and the subjects measured back
to back in the same round) and the median over REPEAT rounds is reported: the machine is shared,
and a ratio within one round cancels most of its load.

Run: ``python -m benchmarks bench_analyze`` (or ``make bench``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

from analyzers.collect import CollectOptions, collect
from benchmarks.harness import Measurement, fresh_parse_cpu

REPEAT = 5
CORPUS = Path(__import__("django").__file__).parent


def collect_cpu(cache_dir: Path, jobs: int | None) -> tuple[float, int]:
    stats = collect(CORPUS, CollectOptions(jobs=jobs, cache_dir=cache_dir)).stats
    return stats.cpu_seconds, stats.parsed


def peak_memory_mb() -> float:
    """Max RSS of a fresh interpreter doing one cold in-process collect."""
    code = (
        "import resource, sys, tempfile, pathlib\n"
        "from analyzers.collect import collect, CollectOptions\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        f"    c = collect(pathlib.Path({str(CORPUS)!r}), "
        "CollectOptions(jobs=1, cache_dir=pathlib.Path(d)))\n"
        "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def ratio(subject: list[float], base: list[float]) -> float:
    """Median over rounds of subject / baseline measured in the same round."""
    return median(s / b for s, b in zip(subject, base, strict=True))


def run() -> list[Measurement]:
    files = sorted(CORPUS.rglob("*.py"))
    sources = [f.read_bytes() for f in files]
    lines = sum(s.count(b"\n") for s in sources)
    base, cold, cold_one, warm = [], [], [], []
    for _ in range(REPEAT):
        base.append(fresh_parse_cpu(files))
        with tempfile.TemporaryDirectory() as tmp:
            cpu, parsed = collect_cpu(Path(tmp) / "a", None)
            assert parsed == len(files), parsed
            cold.append(cpu)
            cpu, parsed = collect_cpu(Path(tmp) / "a", None)
            assert parsed == 0, parsed
            warm.append(cpu)
            cold_one.append(collect_cpu(Path(tmp) / "b", 1)[0])
    details = {"files": len(files), "lines": lines, "ast_parse_cpu_s": round(median(base), 4)}
    memory = peak_memory_mb()
    results = [
        Measurement(
            "facts cold (default jobs) / ast.parse",
            ratio(cold, base),
            "x",
            2.0,
            "<=",
            {**details, "cold_cpu_s": round(median(cold), 4)},
        ),
        Measurement(
            "facts cold (jobs=1) / ast.parse",
            ratio(cold_one, base),
            "x",
            None,
            "<=",
            {**details, "cold_cpu_s": round(median(cold_one), 4)},
        ),
        Measurement(
            "facts warm / ast.parse",
            ratio(warm, base),
            "x",
            0.3,
            "<=",
            {**details, "warm_cpu_s": round(median(warm), 4)},
        ),
        Measurement("facts cold peak memory (jobs=1)", memory, "MB", None, "<=", details),
    ]
    print(
        json.dumps(
            {"rounds": {"ast_parse": base, "cold": cold, "cold_jobs1": cold_one, "warm": warm}},
            default=lambda x: round(x, 4),
        )
    )
    return results
