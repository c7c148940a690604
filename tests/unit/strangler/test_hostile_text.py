"""Text from the analysed code reaches every report as written, never as markup or
terminal control, and never breaks the syntax of a machine format.

The analysed code is untrusted input: file and folder names, string literals (a
``db_table``, a quoted table in raw SQL) and syntax error messages end up in
capability names, evidence, diagnostics and graph nodes.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner, Result

from strangler.cli import main

TABLE = 'tab"le]-->x</y>&[bold]z[/]\x1b[2J\x1b]8;;u\x07|`q`\nrow#quot;'
"""A ``db_table`` holding what markup, markdown, DOT, Mermaid and XML read specially."""

TASK = """
    from celery import shared_task

    @shared_task
    def work():
        return 1
    """

FILES = {
    "app/__init__.py": "",
    "app/models.py": f"""
        from django.db import models

        class Thing(models.Model):
            name = models.CharField(max_length=3)

            class Meta:
                db_table = {TABLE!r}
        """,
    "app/views.py": """
        from django.db import connection
        from app.models import Thing

        def handle(request):
            Thing.objects.create(name="x")
            with connection.cursor() as c:
                c.execute('UPDATE "we[/]ird|`t`" SET x = 1')
            return 1
        """,
    "app/urls.py": """
        from django.urls import path
        from app import views

        urlpatterns = [path("a/", views.handle)]
        """,
    "jobs/__init__.py": "",
    "jobs/sweep.py": """
        from django.db import connection
        from app.models import Thing

        def sweep():
            Thing.objects.create(name="y")
            with connection.cursor() as c:
                c.execute('DELETE FROM "we[/]ird|`t`"')
        """,
    "app/[bold]mark.py": TASK,
    "app/esc\x1b[31mred.py": TASK,
    "app/new\nline.py": TASK,
    "app/pi|pe`tick.py": TASK,
    "odd[/]bad.py": "def f(:\n",
    "app/bad\x1b[2J.py": "def f(:\n",
}


def _write(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    return _write(tmp_path / "shop")


def _run(*args: str) -> Result:
    """``color``: click leaves ANSI sequences in, as it does on a terminal."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False, color=True)


def _literal_on_a_terminal(output: str) -> None:
    """Nothing a terminal would act on: no escape sequence, no other control character."""
    assert not [c for c in output if not c.isprintable() and c not in "\n"], repr(output)


def test_analyze_table_shows_names_and_diagnostics_as_written(hostile: Path) -> None:
    """A file ``odd[/]bad.py`` (folder ``odd[``) crashed the table (rich ``MarkupError``);
    ``app/[bold]mark.py`` made a bold ``app.mark.work``; an escape in a file name
    reached the terminal."""
    result = _run("analyze", str(hostile), "--no-cache", "--top", "0")
    assert result.exit_code == 0, result.output
    assert "app.[bold]mark.work" in result.stdout
    assert "app.esc\\x1b[31mred.work" in result.stdout
    assert "app.new\\nline.work" in result.stdout
    assert "odd[/]bad.py:1" in result.stdout
    _literal_on_a_terminal(result.stdout)


def test_explain_table_shows_evidence_and_blockers_as_written(hostile: Path) -> None:
    """Table names from a ``db_table`` and from raw SQL are in the evidence and the
    blockers: a ``[/]`` in one crashed ``explain``."""
    result = _run("explain", str(hostile), "app.views.handle", "--no-cache")
    assert result.exit_code == 0, result.output
    assert "we[/]ird|`t" in result.stdout
    assert "&[bold]z[/]\\x1b[2J\\x1b]8;;u\\x07|`q`\\nrow" in result.stdout
    _literal_on_a_terminal(result.stdout)
    result = _run("explain", str(hostile), "app.[bold]mark.work", "--no-cache")
    assert result.exit_code == 0, result.output
    assert "app.[bold]mark.work  score" in result.stdout
    assert "app/[bold]mark.py:4" in result.stdout


def test_a_path_named_like_markup_is_shown_as_written(tmp_path: Path) -> None:
    root = tmp_path / "[red]shop[/]\x1b[2J\x1b]8;;u\x07"
    (root / "m.py").parent.mkdir(parents=True)
    (root / "m.py").write_text("def f():\n    return 1\n")
    result = _run("analyze", str(root), "--no-cache")
    assert result.exit_code == 0, result.output
    assert "[red]shop[/]\\x1b[2J\\x1b]8;;u\\x07" in result.stdout
    _literal_on_a_terminal(result.stdout)


def _cells(row: str) -> list[str]:
    """A GFM table row split on its unescaped pipes (an escaped one is in a cell)."""
    return re.split(r"(?<!\\)\|", row.strip())[1:-1]


def test_analyze_markdown_rows_keep_their_cells(hostile: Path) -> None:
    """A ``|``, a newline or a backtick in a name or a table name broke the row or the
    code span; an escape sequence reached the terminal showing the report."""
    result = _run("analyze", str(hostile), "--no-cache", "--format", "markdown")
    assert result.exit_code == 0, result.output
    _literal_on_a_terminal(result.stdout)
    tables = re.findall(r"(?m)(?:^\|.*\n)+", result.stdout)
    assert len(tables) == 3  # capabilities, partition quality, files not analysed
    for table in tables:
        header, *rows = table.splitlines()
        assert all(len(_cells(row)) == len(_cells(header)) for row in rows), table
    assert "| ``app.pi\\|pe`tick.work`` |" in result.stdout
    assert "| `app.new\\nline.work` |" in result.stdout
    assert "| `app.esc\\x1b[31mred.work` |" in result.stdout
    assert "| `odd[/]bad.py:1` | syntax error: invalid syntax |" in result.stdout
    assert "&[bold]z[/]\\x1b[2J\\x1b]8;;u\\x07\\|`q`\\nrow#quot;" in result.stdout


def test_explain_markdown_keeps_one_line_per_item(hostile: Path) -> None:
    result = _run(
        "explain", str(hostile), "app.pi|pe`tick.work", "--no-cache", "--format", "markdown"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# ``app.pi|pe`tick.work``\n")
    assert "- ``app/pi|pe`tick.py:4`` entry point app.pi|pe`tick.work: celery task" in (
        result.stdout
    )
    result = _run("explain", str(hostile), "app", "--no-cache", "--format", "markdown")
    assert result.exit_code == 0, result.output
    _literal_on_a_terminal(result.stdout)
    shared = (
        '- `jobs/sweep.py:5` jobs.sweep.sweep also writes tab"le]-->x</y>&[bold]z[/]'
        "\\x1b[2J\\x1b]8;;u\\x07|`q`\\nrow#quot;\n"
    )
    assert shared in result.stdout
    assert "- `app/new\\nline.py:4` app.new\\nline.work: result ignored\n" in result.stdout
    assert "- `app.new\\nline`: work\n" in result.stdout


SHOWN_TABLE = 'tab"le]-->x</y>&[bold]z[/]\\x1b[2J\\x1b]8;;u\\x07|`q`\\nrow#quot;'
""":data:`TABLE` with its control characters as escapes."""

DOT_ID = r'"(?:[^"\\\n]|\\.)*"'


def test_graph_dot_stays_one_statement_per_line(hostile: Path) -> None:
    """A newline in a name split a statement and an escape reached the terminal."""
    result = _run("graph", str(hostile), "--no-cache", "--format", "dot")
    assert result.exit_code == 0, result.output
    _literal_on_a_terminal(result.stdout)
    head, *body, tail = result.stdout.splitlines()
    assert (head, body[0], tail) == ("digraph strangler {", "  rankdir=LR;", "}")
    node = re.compile(rf"  {DOT_ID} \[shape=\w+\];")
    edge = re.compile(rf'  {DOT_ID} -> {DOT_ID} \[label="\w+"\];')
    assert all(node.fullmatch(line) or edge.fullmatch(line) for line in body[1:]), body
    quoted = SHOWN_TABLE.replace("\\", "\\\\").replace('"', '\\"')
    assert f'  "table:{quoted}" [shape=cylinder];' in body
    assert '  "app.new\\\\nline.work" [shape=ellipse];' in body


def test_graph_mermaid_labels_cannot_end_early(hostile: Path) -> None:
    """A newline in a name ended the Mermaid line; ``<``/``&`` in a label are HTML."""
    result = _run("graph", str(hostile), "--no-cache", "--format", "mermaid")
    assert result.exit_code == 0, result.output
    _literal_on_a_terminal(result.stdout)
    head, *body = result.stdout.splitlines()
    assert head == "flowchart LR"
    node = re.compile(r'  n\d+(?:\["[^"<>&]*"\]|\[\("[^"<>&]*"\)\])')
    edge = re.compile(r"  n\d+ -->\|\w+\| n\d+")
    assert all(node.fullmatch(line) or edge.fullmatch(line) for line in body), body
    label = (
        "table:tab#quot;le]--#gt;x#lt;/y#gt;#amp;[bold]z[/]\\x1b[2J\\x1b]8;;u\\x07|`q`"
        "\\nrow#35;quot;"
    )
    assert any(line.endswith(f'[("{label}")]') for line in body), body


def test_graph_graphml_parses_with_control_characters_in_names(hostile: Path) -> None:
    """An escape in a file name or a ``db_table`` is no character XML 1.0 can hold:
    the GraphML did not parse."""
    result = _run("graph", str(hostile), "--no-cache", "--format", "graphml")
    assert result.exit_code == 0, result.output
    _literal_on_a_terminal(result.stdout)
    graph = nx.parse_graphml(result.stdout)
    assert f"table:{SHOWN_TABLE}" in graph
    assert graph.nodes["app.esc\\x1b[31mred.work"]["path"] == "app/esc\\x1b[31mred.py"
    assert graph.nodes["app.[bold]mark.work"]["path"] == "app/[bold]mark.py"


def test_graph_json_keeps_names_exact(hostile: Path) -> None:
    result = _run("graph", str(hostile), "--no-cache", "--format", "json")
    assert result.exit_code == 0, result.output
    _literal_on_a_terminal(result.stdout)
    nodes = {n["id"] for n in json.loads(result.stdout)["nodes"]}
    assert {f"table:{TABLE}", "app.new\nline.work", "app.esc\x1b[31mred.work"} <= nodes


def test_error_lines_show_control_characters_as_escapes(hostile: Path, tmp_path: Path) -> None:
    """PATH, a capability name and the closest names (from the analysed code) are in
    the one-line errors: an escape in one reached the terminal."""
    missing = tmp_path / "no\x1b]8;;u\x07such"
    result = _run("analyze", str(missing))
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"strangler: error: {tmp_path}/no\\x1b]8;;u\\x07such: no such file or directory\n"
    )
    result = _run("explain", str(hostile), "app.esc\x1b[31mred.wor", "--no-cache")
    assert result.exit_code == 2
    _literal_on_a_terminal(result.stderr)
    assert "did you mean app.esc\\x1b[31mred.work?" in result.stderr
    result = _run("graph", str(hostile), "--no-cache")
    assert result.exit_code == 0
    _literal_on_a_terminal(result.stderr)
    assert "strangler: not in the graph: app/bad\\x1b[2J.py:1: syntax error" in result.stderr
    result = _run("extract", str(missing), "app")
    assert result.exit_code == 2
    _literal_on_a_terminal(result.stderr)


def test_extract_plan_and_refusal_keep_one_line_per_item(hostile: Path) -> None:
    """A table name from a ``db_table`` is in the plan's couplings and blockers and in
    the refusal: its newline split an item over two lines, its escapes reached the
    terminal."""
    result = _run("extract", str(hostile), "app.views.handle", "--plan")
    assert result.exit_code == 1, result.output
    _literal_on_a_terminal(result.stdout)
    assert f"    - shared database: the handlers use {SHOWN_TABLE}, we[/]ird|`t\n" in (
        result.stdout
    )
    assert all(line.startswith(("extraction plan: ", "  ")) for line in result.stdout.splitlines())
    result = _run("extract", str(hostile), "app.views.handle")
    assert result.exit_code == 1, result.output
    _literal_on_a_terminal(result.stderr)
    first, *items = result.stderr.splitlines()
    assert first.startswith("strangler: error: app.views.handle is blocked")
    assert items
    assert all(item.startswith("  - ") for item in items), items
    assert f"  - writes {SHOWN_TABLE}, which jobs.sweep.sweep also writes" in result.stderr
