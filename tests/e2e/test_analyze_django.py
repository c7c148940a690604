"""The whole ``strangler analyze`` over the installed Django source (issue 3's acceptance:
completes, no crash, counts printed): facts, graph, candidates, scoring, ranking and
partition quality on 800+ real files, the JSON valid against its schema."""

from __future__ import annotations

import json
from pathlib import Path

import django
import jsonschema
import pytest
from click.testing import CliRunner

from strangler.cli import main

ROOT = Path(__file__).parents[2]
DJANGO = Path(django.__file__).parent
SCHEMA = json.loads((ROOT / "strangler/schemas/analysis.schema.json").read_text())


def test_strangler_analyze_over_django_completes_with_a_valid_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["analyze", str(DJANGO), "--format", "json", "--top", "0"]
    result = CliRunner().invoke(
        main, [*args, "--cache-dir", str(tmp_path / "cache")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    s, q = report["stats"], report["quality"]
    with capsys.disabled():  # the counts belong in the test log, -s or not
        print(
            f"\ndjango: {s['modules']} modules, {s['functions']} functions, {s['classes']} "
            f"classes, {s['tables']} tables, {s['calls']} calls ({s['unresolved_calls']} "
            f"unresolved), {s['candidates']} candidates, {len(report['capabilities'])} ranked, "
            f"{s['diagnostics']} diagnostics, quality {q}"
        )
    assert s["modules"] > 700
    assert s["tables"] > 10  # auth, contenttypes, sessions, admin, sites, ...
    assert report["capabilities"], "no capability ranked"
    ranks = [c["rank"] for c in report["capabilities"]]
    assert ranks == list(range(1, len(ranks) + 1))
    scores = [c["score"] for c in report["capabilities"] if c["role"] == "capability"]
    assert scores == sorted(scores, reverse=True)
    assert set(report["proposed"]) <= {c["name"] for c in report["capabilities"]}
