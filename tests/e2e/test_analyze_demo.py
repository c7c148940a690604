"""Acceptance: `strangler analyze` on demo_monolith agrees with its README's ground truth.

The ground truth (```ground-truth``` block and the blockers table in
demo_monolith/README.md) is written by hand from the code; this test never copies
its answers into the analyzer, it only compares.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from strangler.cli import main
from tests.e2e.democopy import ground_truth

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "demo_monolith"
README = DEMO / "README.md"
SCHEMA = json.loads((ROOT / "strangler/schemas/analysis.schema.json").read_text())


def _blocker_rows() -> list[tuple[str, str, str]]:
    """(capability, blocker, file:line) rows of the README's "Blockers" table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Blockers", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"[\w/]+\.py:\d+", cells[2]):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The analysis is cached here (not inside demo_monolith/): explain reuses it."""
    return str(tmp_path_factory.mktemp("strangler-cache"))


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def analysis(cache_dir: str) -> dict[str, object]:
    args = ("analyze", str(DEMO), "--format", "json", "--top", "0", "--cache-dir", cache_dir)
    document = json.loads(_run(*args))
    jsonschema.validate(document, SCHEMA)
    return document


def test_every_extract_first_ranks_above_every_do_not_extract(analysis: dict[str, object]) -> None:
    truth = ground_truth()
    ranks = {c["name"]: c["rank"] for c in analysis["capabilities"]}  # type: ignore[attr-defined]
    missing = [n for n in truth["extract_first"] + truth["do_not_extract"] if n not in ranks]
    assert not missing, f"not found as capabilities: {missing}"
    worst_first = max(truth["extract_first"], key=ranks.__getitem__)
    best_blocked = min(truth["do_not_extract"], key=ranks.__getitem__)
    assert ranks[worst_first] < ranks[best_blocked], (
        f"{worst_first} (rank {ranks[worst_first]}) should rank above "
        f"{best_blocked} (rank {ranks[best_blocked]})"
    )


def test_extract_first_lead_the_ranking_with_a_margin(analysis: dict[str, object]) -> None:
    """The six extract-first capabilities are within the top 8 (the other two may be
    ``extract_later`` or capabilities the ground truth does not rank), and the worst of
    them outscores the best do-not-extract one by a clear margin."""
    truth = ground_truth()
    caps = {c["name"]: c for c in analysis["capabilities"]}  # type: ignore[attr-defined]
    top8 = [c["name"] for c in analysis["capabilities"][:8]]  # type: ignore[index]
    assert set(truth["extract_first"]) <= set(top8), top8
    assert set(top8) & set(truth["do_not_extract"]) == set()
    worst = min(caps[n]["score"] for n in truth["extract_first"])
    best_blocked = max(caps[n]["score"] for n in truth["do_not_extract"])
    assert worst - best_blocked >= 10, (worst, best_blocked)


def test_framework_plumbing_and_helpers_are_not_ranked_as_capabilities(
    analysis: dict[str, object],
) -> None:
    caps = analysis["capabilities"]  # type: ignore[assignment]
    names = {c["name"] for c in caps}  # type: ignore[attr-defined]
    assert "manage" not in names
    assert not [n for n in names if ".management.commands." in n or n.endswith((".apps", ".admin"))]
    roles = [c["role"] for c in caps]  # type: ignore[attr-defined]
    assert roles == sorted(roles)  # every capability before every helper
    helpers = {c["name"] for c in caps if c["role"] == "helper"}  # type: ignore[attr-defined]
    assert {"core.utils.rows_to_csv", "orders.cart.Cart.clear", "core.utils.quantize"} <= helpers
    assert not helpers & set(ground_truth()["extract_first"])


def test_fire_and_forget_and_request_reply_are_told_apart(analysis: dict[str, object]) -> None:
    truth = ground_truth()
    caps = {c["name"]: c for c in analysis["capabilities"]}  # type: ignore[attr-defined]

    def fraction(name: str) -> float:
        return next(p["value"] for p in caps[name]["components"] if p["name"] == "fire_and_forget")

    assert all(fraction(n) == 1.0 for n in truth["fire_and_forget"])
    assert all(fraction(n) == 0.0 for n in truth["request_reply"])


BLOCKER_KINDS = {
    "transaction": "transaction",
    "nested call in transaction": "transaction",
    "called inside transaction": "transaction",
    "runs inside transaction": "transaction",
    "row lock": "select_for_update",
    "shared table": "shared_write",
    "import cycle": "import_cycle",
    "signal receiver": "signal",
    "module state": "global_state",
    "request argument": "argument",
    "non-serialisable argument": "argument",
}
"""The README's words for a blocker -> the analysis's blocker kind."""


@pytest.mark.parametrize(("capability", "blocker", "location"), _blocker_rows())
def test_each_named_blocker_appears_in_explain(
    cache_dir: str, capability: str, blocker: str, location: str
) -> None:
    """The capability has a blocker of that kind, and explain shows the README's line:
    as a blocker, or as evidence of one (a request argument's blocker sits on the
    ``def``, the README names the line that uses the request)."""
    text = _run("explain", str(DEMO), capability, "--format", "markdown", "--cache-dir", cache_dir)
    assert location in text, f"{blocker} at {location} not shown by explain {capability}"
    document = json.loads(
        _run("explain", str(DEMO), capability, "--format", "json", "--cache-dir", cache_dir)
    )
    (cap,) = document["capabilities"]
    kinds = {b["kind"] for b in cap["blockers"]}
    assert BLOCKER_KINDS[blocker] in kinds, f"{capability}: no {blocker} blocker in {kinds}"
    shown = {b["location"] for b in cap["blockers"]}
    shown |= {e["location"] for part in cap["components"] for e in part["evidence"]}
    assert location in shown, f"{location} is in the text of explain, not as evidence"


def test_a_short_name_shared_by_several_capabilities_is_called_ambiguous(
    analysis: dict[str, object], cache_dir: str
) -> None:
    """``explain demo views`` names the candidates instead of claiming there is none."""
    names = [c["name"] for c in analysis["capabilities"]]  # type: ignore[attr-defined]
    views = [n for n in names if n.endswith(".views")]
    assert len(views) >= 2
    result = CliRunner().invoke(
        main, ["explain", str(DEMO), "views", "--cache-dir", cache_dir], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert f"'views' is ambiguous: {len(views)} capabilities end with it (" in result.stderr
    assert views[0] in result.stderr


def test_row_locks_are_only_the_locking_queries(analysis: dict[str, object]) -> None:
    """A ``select_for_update`` blocker names a locking query, never a later save of the
    rows it fetched (refund_payment saves them at capture.py:60, 64 and 66)."""
    queries = {loc for _, kind, loc in _blocker_rows() if kind == "row lock"}
    found = {
        b["location"]
        for c in analysis["capabilities"]  # type: ignore[attr-defined]
        for b in c["blockers"]
        if b["kind"] == "select_for_update"
    }
    assert found == queries
