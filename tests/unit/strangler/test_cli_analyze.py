"""``strangler analyze / explain / graph`` end to end on a small project written to disk."""

from __future__ import annotations

import gc
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import jsonschema
import networkx as nx
import pytest
from click.testing import CliRunner, Result

from analyzers import cachefile
from strangler.analysis import run_analysis
from strangler.cli import main
from strangler.config import load_config

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "strangler/schemas/analysis.schema.json").read_text()
)

FILES = {
    "orders/__init__.py": "",
    "orders/models.py": """
        from django.db import models

        class Order(models.Model):
            total = models.IntegerField()
        """,
    "orders/views.py": """
        from django.db import transaction
        from notifications.emails import send_order_confirmation
        from orders.models import Order

        def checkout(request):
            with transaction.atomic():
                order = Order.objects.create(total=3)
                send_order_confirmation(order)
            return order.pk
        """,
    "orders/urls.py": """
        from django.urls import path
        from orders import views

        urlpatterns = [path("checkout/", views.checkout)]
        """,
    "notifications/__init__.py": "",
    "notifications/apps.py": "",
    "notifications/emails.py": """
        from django.core.mail import send_mail

        def send_order_confirmation(order):
            send_mail("Thanks", render(order), "shop@example.com", ["you@example.com"])

        def render(order):
            return f"order {order.pk}"
        """,
}


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _write(tmp_path / "shop", FILES)


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _one_line_error(result: Result) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("strangler: error: ")


def test_json_output_validates_against_the_schema(project: Path) -> None:
    result = _run("analyze", str(project), "--format", "json", "--no-cache")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    names = [c["name"] for c in document["capabilities"]]
    assert "notifications.emails.send_order_confirmation" in names
    assert document["stats"]["modules"] == 7


def test_explain_names_the_blockers_with_file_and_line(project: Path) -> None:
    name = "notifications.emails.send_order_confirmation"
    result = _run("explain", str(project), name, "--format", "json", "--no-cache")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    (cap,) = document["capabilities"]
    blockers = {(b["kind"], b["location"]) for b in cap["blockers"]}
    assert ("argument", "orders/views.py:8") in blockers  # pass order.pk
    assert ("transaction", "orders/views.py:8") in blockers
    table = _run("explain", str(project), name, "--no-cache")
    assert "orders/views.py:8" in table.stdout
    assert "pass order.pk instead of order" in table.stdout


def test_table_and_markdown(project: Path) -> None:
    table = _run("analyze", str(project), "--no-cache", "--top", "3")
    assert table.exit_code == 0
    assert "Extractable capabilities" in table.stdout
    markdown = _run("analyze", str(project), "--format", "markdown", "--no-cache")
    assert markdown.stdout.startswith("# Extractable capabilities")
    assert "## Partition quality (Mono2Micro)" in markdown.stdout


def test_output_file_is_written_and_stdout_stays_empty(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "analysis.json"
    result = _run("analyze", str(project), "--format", "json", "--output", str(out), "--no-cache")
    assert result.exit_code == 0
    assert result.stdout == ""
    jsonschema.validate(json.loads(out.read_text()), SCHEMA)
    assert [p.name for p in out.parent.iterdir()] == ["analysis.json"]  # no temp file left


def test_diagnostics_are_listed_and_strict_fails(project: Path) -> None:
    (project / "orders" / "broken.py").write_text("def f(:\n", encoding="utf-8")
    relaxed = _run("analyze", str(project), "--format", "json", "--no-cache")
    assert relaxed.exit_code == 0
    document = json.loads(relaxed.stdout)
    assert [d["path"] for d in document["diagnostics"]] == ["orders/broken.py"]
    assert document["stats"]["diagnostics"] == 1
    strict = _run("analyze", str(project), "--format", "json", "--no-cache", "--strict")
    assert strict.exit_code == 1
    assert "1 files could not be analysed" in strict.stderr


@pytest.mark.parametrize("case", ["missing", "file", "no_python"])
def test_bad_path_is_one_line_exit_2_and_nothing_written(tmp_path: Path, case: str) -> None:
    target = tmp_path / "target"
    if case == "file":
        target.write_text("x = 1\n")
    elif case == "no_python":
        target.mkdir()
        (target / "README.txt").write_text("nothing here\n")
    out = tmp_path / "out.json"
    for command in (["analyze"], ["graph"], ["explain"]):
        args = [*command, str(target)] + (["anything"] if command == ["explain"] else [])
        _one_line_error(_run(*args, "--output", str(out)))
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == (
        [] if case == "missing" else ["README.txt", "target"] if case == "no_python" else ["target"]
    )  # no .strangler/ anywhere


@pytest.mark.parametrize(
    "args",
    [
        ["graph", "{project}", "--format", "bogus"],
        ["analyze", "{project}", "--format", "html"],
        ["explain", "{project}"],  # CAPABILITY missing
        ["analyze", "{project}", "--no-such-option"],
    ],
)
def test_usage_errors_are_one_line_exit_2_and_nothing_written(
    project: Path, args: list[str]
) -> None:
    result = _run(*[a.format(project=project) for a in args])
    _one_line_error(result)
    assert not (project / ".strangler").exists()


def test_a_bad_weight_flag_is_named_as_typed(project: Path) -> None:
    result = _run("analyze", str(project), "--weight", "nope=1", "--no-cache")
    _one_line_error(result)
    assert result.stderr.startswith("strangler: error: --weight: unknown weight 'nope'")


def test_unknown_capability_is_one_line_exit_2(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    _one_line_error(_run("explain", str(project), "no.such.thing", "--output", str(out)))
    assert not out.exists()


@pytest.mark.parametrize("command", ["analyze", "graph"])
def test_a_cache_dir_outside_the_project_from_its_pyproject_is_refused(
    project: Path, tmp_path: Path, command: str
) -> None:
    (project / "pyproject.toml").write_text('[tool.strangler]\ncache_dir = "../p2/escaped"\n')
    _one_line_error(_run(command, str(project)))
    assert not (tmp_path / "p2").exists()
    assert not (project / ".strangler").exists()


def test_an_absolute_cache_dir_from_the_command_line_is_used(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    result = _run("analyze", str(project), "--cache-dir", str(cache), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert (cache / "analysis.jsonl").is_file()
    assert not (project / ".strangler").exists()


@pytest.mark.parametrize("command", ["analyze", "graph", "explain"])
def test_a_project_whose_every_file_is_broken_is_refused_before_any_cache_is_written(
    tmp_path: Path, command: str
) -> None:
    root = _write(tmp_path / "broken", {"a.py": "def f(:\n", "pkg/__init__.py": "class (\n"})
    args = [command, str(root)] + (["anything"] if command == "explain" else [])
    _one_line_error(_run(*args))  # caches on (the default)
    assert not (root / ".strangler").exists()


def test_an_unknown_capability_is_refused_before_any_cache_is_written(project: Path) -> None:
    _one_line_error(_run("explain", str(project), "no.such.thing"))
    assert not (project / ".strangler").exists()
    run_analysis(project, load_config(project, {}, {}))  # a warm refusal writes nothing new
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (project / ".strangler").rglob("*"))
    _one_line_error(_run("explain", str(project), "no.such.thing"))
    assert sorted((p.name, p.stat().st_mtime_ns) for p in (project / ".strangler").rglob("*")) == (
        before
    )


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("analyze", "--top", "-1"),
        ("analyze", "--top", "x"),
        ("analyze", "--top", "1.5"),
        ("analyze", "--jobs", "1.5"),
        ("analyze", "-j", "many"),
        ("explain", "--jobs", "-2"),
        ("graph", "--jobs", "-1"),
        ("analyze", "--proposal-size", "0"),
        ("explain", "--proposal-size", "ten"),
        ("graph", "--proposal-size", "-5"),
    ],
)
def test_numeric_options_are_usage_errors_naming_the_option(
    project: Path, command: str, option: str, value: str
) -> None:
    args = [command, str(project), *(["x"] if command == "explain" else []), option, value]
    result = _run(*args)
    _one_line_error(result)
    assert ("--jobs" if option == "-j" else option) in result.stderr  # the option named
    assert not (project / ".strangler").exists()


def test_jobs_auto_or_0_is_the_default(project: Path) -> None:
    """``--jobs auto`` and ``--jobs 0`` mean what STRANGLER_JOBS=auto/0 mean: the default."""
    for value in ("auto", "0"):
        result = _run("analyze", str(project), "--no-cache", "--jobs", value)
        assert result.exit_code == 0, result.stderr


def test_analyze_and_explain_share_their_options() -> None:
    from strangler.commands.analyze import analyze, explain, graph

    def options(command: click.Command) -> dict[str, tuple[str, ...]]:
        return {p.name or "": tuple(p.opts) for p in command.params if p.name}

    shared = {k: v for k, v in options(analyze).items() if k not in {"path", "top"}}
    assert shared == {k: v for k, v in options(explain).items() if k not in {"path", "capability"}}
    assert {"jobs", "no_cache", "cache_dir", "exclude", "weights", "proposal_size"} <= set(
        options(graph)
    )


def test_bad_option_values_are_one_line_exit_2(project: Path) -> None:
    _one_line_error(_run("analyze", str(project), "--weight", "bogus=1"))
    _one_line_error(_run("analyze", str(project), "--top", "-3"))
    _one_line_error(_run("analyze", str(project), "--jobs", "many"))


@pytest.mark.parametrize("fmt", ["json", "dot", "mermaid", "graphml"])
def test_graph_formats(project: Path, fmt: str) -> None:
    result = _run("graph", str(project), "--format", fmt, "--no-cache")
    assert result.exit_code == 0, result.stderr
    caller, callee = "orders.views.checkout", "notifications.emails.send_order_confirmation"
    if fmt == "json":
        graph = nx.node_link_graph(json.loads(result.stdout), edges="edges")
        assert graph.edges[caller, callee]["kind"] == "calls"
    elif fmt == "graphml":
        assert nx.parse_graphml(result.stdout).edges[caller, callee]["kind"] == "calls"
    elif fmt == "dot":
        assert f'"{caller}" -> "{callee}" [label="calls"];' in result.stdout
    else:
        assert result.stdout.startswith("flowchart LR")


def test_graph_names_the_files_left_out_and_strict_fails_on_them(project: Path) -> None:
    """An unparseable file is missing from the graph: say so, never silently."""
    (project / "orders" / "broken.py").write_text("def f(:\n")
    result = _run("graph", str(project), "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert "orders.views.checkout" in result.stdout
    assert result.stderr.startswith("strangler: not in the graph: orders/broken.py:1: ")
    assert result.stderr.count("\n") == 1
    strict = _run("graph", str(project), "--no-cache", "--strict")
    assert strict.exit_code == 1
    assert "orders.views.checkout" in strict.stdout  # the graph is still written


def test_warm_run_reuses_the_cached_analysis_until_a_file_changes(project: Path) -> None:
    config = load_config(project, {}, {})
    cold = run_analysis(project, config)
    warm = run_analysis(project, config)
    assert (cold.from_cache, warm.from_cache) == (False, True)
    assert warm.analysis == cold.analysis
    (project / "notifications" / "emails.py").write_text("def other():\n    return 1\n")
    changed = run_analysis(project, config)
    assert not changed.from_cache
    assert all("send_order_confirmation" not in c.name for c in changed.analysis.capabilities)


def test_the_use_case_and_the_cli_leave_the_callers_gc_as_they_found_it(project: Path) -> None:
    """A library (and a command run in-process, as here) must not freeze its host's heap."""
    state = (gc.get_freeze_count(), gc.isenabled())
    assert not run_analysis(project, load_config(project, {}, {})).from_cache
    assert (gc.get_freeze_count(), gc.isenabled()) == state
    for command in (["analyze"], ["graph"], ["explain", "send_order_confirmation"]):
        args = [command[0], str(project), *command[1:], "--no-cache"]
        assert _run(*args).exit_code == 0
        assert (gc.get_freeze_count(), gc.isenabled()) == state


def test_a_command_keeps_the_gc_paused_until_it_returns(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI, which ends right after, keeps the collector paused through rendering."""
    import strangler.commands.analyze as commands

    seen: list[bool] = []
    real = commands.analysis_table

    def table(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(commands, "analysis_table", table)
    enabled = gc.isenabled()
    assert _run("analyze", str(project), "--no-cache").exit_code == 0
    assert seen == [False]
    assert gc.isenabled() is enabled


def test_the_cli_process_freezes_its_heap_only_once_it_is_exiting(project: Path) -> None:
    import subprocess
    import sys

    code = textwrap.dedent(
        """
        import atexit, gc, sys
        atexit.register(lambda: print("at exit:", gc.get_freeze_count() > 0))  # runs last
        from strangler.cli import main
        try:
            main(["analyze", sys.argv[1], "--no-cache", "--format", "json"])
        except SystemExit:
            print("after the command:", gc.get_freeze_count(), gc.isenabled())
            raise
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(project)], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-2:] == ["after the command: 0 True", "at exit: True"]


def test_a_touched_but_unchanged_file_still_hits_the_cache(project: Path) -> None:
    import os

    config = load_config(project, {}, {})
    cold = run_analysis(project, config)
    path = project / "notifications" / "emails.py"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    touched = run_analysis(project, config)  # stat data differ: the content hash decides
    assert touched.from_cache
    assert touched.analysis == cold.analysis


def test_corrupt_cache_is_a_miss_not_a_crash(project: Path) -> None:
    config = load_config(project, {}, {})
    first = run_analysis(project, config)
    (config.cache_path(project) / "analysis.jsonl").write_text("{not json", encoding="utf-8")
    again = run_analysis(project, config)
    assert not again.from_cache
    assert again.analysis == first.analysis


def test_weights_from_pyproject_change_the_scores(project: Path) -> None:
    base = json.loads(_run("analyze", str(project), "--format", "json", "--no-cache").stdout)
    (project / "pyproject.toml").write_text("[tool.strangler.weights]\ntransactions = 20\n")
    tuned = json.loads(_run("analyze", str(project), "--format", "json", "--no-cache").stdout)
    assert tuned["weights"]["transactions"] == 20
    score = {c["name"]: c["score"] for c in base["capabilities"]}
    name = "notifications.emails.send_order_confirmation"
    assert next(c["score"] for c in tuned["capabilities"] if c["name"] == name) < score[name]


def test_an_edited_cached_capability_is_a_miss(project: Path) -> None:
    config = load_config(project, {}, {})
    first = run_analysis(project, config)
    path = config.cache_path(project) / "analysis.jsonl"
    seal, head, *capabilities = path.read_text().split("\n")  # seal, head, one per line
    name = first.analysis.capabilities[0].name
    assert json.loads(capabilities[0])[1] == name  # a positional row: rank, name, ...
    capabilities[0] = capabilities[0].replace(json.dumps(name), json.dumps(name + "_edited"), 1)
    path.write_text("\n".join([seal, head, *capabilities]))
    again = run_analysis(project, config)
    assert not again.from_cache
    assert again.analysis == first.analysis
    assert run_analysis(project, config).from_cache  # rewritten


def test_a_deeply_nested_analysis_cache_is_a_miss_not_a_crash(project: Path) -> None:
    """The stdlib JSON parser (orjson's fallback) recursed into it: RecursionError.
    Sealed, so that it reaches the decoder (an unsealed file never does)."""
    config = load_config(project, {}, {})
    first = run_analysis(project, config)
    path = config.cache_path(project) / "analysis.jsonl"
    assert cachefile.write(path, [b"[" * 100_000 + b"]" * 100_000 + b"\n"])
    assert cachefile.read(path) is not None
    again = run_analysis(project, config)
    assert not again.from_cache
    assert again.analysis == first.analysis
    assert run_analysis(project, config).from_cache  # rewritten


def test_a_copied_project_keeps_its_cache_and_reports_its_own_root(
    project: Path, tmp_path: Path
) -> None:
    first = run_analysis(project, load_config(project, {}, {}))
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)  # copy2 keeps the mtimes, as cp -a does
    again = run_analysis(copy, load_config(copy, {}, {}))
    assert again.from_cache  # the content decides: nothing was re-analysed
    assert again.analysis == replace(first.analysis, root=str(copy.resolve()))
    report = json.loads(_run("analyze", str(copy), "--format", "json").stdout)
    assert report["root"] == str(copy.resolve())


def test_files_hashed_again_after_a_copy_are_trusted_by_their_stat_data_next_time(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hit decided by content stores the new stat data: one run hashes, not all."""
    import strangler.analysis as use_case

    run_analysis(project, load_config(project, {}, {}))
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    config = load_config(copy, {}, {})
    assert run_analysis(copy, config).from_cache
    monkeypatch.setattr(use_case.FactsCache, "keys", _must_not_hash)
    assert run_analysis(copy, config).from_cache


def _must_not_hash(*args: Any) -> Any:
    raise AssertionError("hashed the files again")


def test_a_same_size_edit_with_its_mtime_put_back_is_not_missed(project: Path) -> None:
    """``touch -d``, ``cp -p``, ``tar`` and ``rsync -t`` restore an mtime; the ctime moves."""
    config = load_config(project, {}, {})
    run_analysis(project, config)
    path = project / "notifications" / "emails.py"
    _edit_keeping_size_and_mtime(path, path.read_text().replace("render", "rendex"))
    again = run_analysis(project, config)
    assert not again.from_cache
    members = {m for c in again.analysis.capabilities for m in c.members}
    assert "notifications.emails.rendex" in members
    assert "notifications.emails.render" not in members


def _edit_keeping_size_and_mtime(path: Path, text: str) -> None:
    st = path.stat()
    assert len(text.encode()) == st.st_size
    time.sleep(0.02)  # past the file system's clock tick, so that the ctime moves
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_every_cache_file_gets_a_normal_files_mode(project: Path) -> None:
    """0666 less the umask, like ``open(path, "w")``: not 0600 for some, 0644 for others."""
    old = os.umask(0o002)
    try:
        run_analysis(project, load_config(project, {}, {}))
    finally:
        os.umask(old)
    cache = load_config(project, {}, {}).cache_path(project)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in cache.iterdir()}
    assert modes == dict.fromkeys(["analysis.jsonl", "facts.json", "index.json"], 0o664)


def test_warm_explain_decodes_only_what_it_shows(project: Path) -> None:
    config = load_config(project, {}, {})
    run_analysis(project, config)
    name = "notifications.emails.send_order_confirmation"
    result = _run("explain", str(project), name, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["capabilities"][0]["name"] == name


def test_unwritable_output_is_one_line_exit_2(project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    _one_line_error(_run("analyze", str(project), "--no-cache", "--output", str(folder)))
    assert list(folder.iterdir()) == []


def test_json_is_identical_under_different_hash_seeds(project: Path) -> None:
    import os
    import subprocess
    import sys

    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        code = "from strangler.cli import main; main()"
        args = ["analyze", str(project), "--format", "json", "--top", "0", "--no-cache"]
        done = subprocess.run(
            [sys.executable, "-c", code, *args], env=env, capture_output=True, check=True
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]


def test_output_file_mode_follows_the_umask_and_an_existing_file_keeps_its_own(
    tmp_path: Path,
) -> None:
    """The temporary file behind ``--output`` is 0600; the report must not be."""
    import os

    from strangler.files import write_atomic

    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "report.md", "r\n")
        kept = tmp_path / "shared.json"
        kept.write_text("{}")
        kept.chmod(0o664)
        write_atomic(kept, "{}\n")
    finally:
        os.umask(old)
    assert (tmp_path / "report.md").stat().st_mode & 0o777 == 0o644
    assert kept.stat().st_mode & 0o777 == 0o664
    assert kept.read_text() == "{}\n"


def test_output_to_a_device_writes_through_it_and_keeps_it_a_device(tmp_path: Path) -> None:
    """``-o /dev/null`` must never replace the device node with a regular file."""
    import os
    import stat

    from strangler.files import write_atomic

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomic(fifo, "report\n")
        assert os.read(reader, 100) == b"report\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO, not replaced by a file
    write_atomic(Path(os.devnull), "x")
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


def test_a_progress_bar_on_a_terminal_stderr_and_none_on_a_pipe(project: Path) -> None:
    """Progress is for a human watching: drawn on a TTY stderr, never into a pipe or log."""
    import os
    import subprocess
    import sys

    code = "from strangler.cli import main; main()"
    args = ["analyze", str(project), "--no-cache", "--format", "json", "-o", os.devnull]
    master, slave = os.openpty()
    try:
        env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
        env.pop("NO_COLOR", None)
        done = subprocess.run([sys.executable, "-c", code, *args], stderr=slave, env=env)
        os.close(slave)
        drawn = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child's end is closed and drained
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(master)
    assert done.returncode == 0
    assert b"parsing" in drawn
    assert f"{len(FILES)}/{len(FILES)}".encode() in drawn  # files done / total
    piped = subprocess.run([sys.executable, "-c", code, *args], capture_output=True)
    assert piped.returncode == 0
    assert piped.stderr == b""


def test_exclude_and_jobs_through_the_cli(project: Path) -> None:
    def names(*extra: str) -> list[str]:
        result = _run("analyze", str(project), "--format", "json", "--top", "0", *extra)
        assert result.exit_code == 0, result.stderr
        return [c["name"] for c in json.loads(result.stdout)["capabilities"]]

    everything = names("--no-cache", "--jobs", "1")
    assert "notifications.emails.send_order_confirmation" in everything
    assert names("--no-cache", "--jobs", "2") == everything  # a worker pool, same answer
    without = names("--no-cache", "--exclude", "notifications/*")
    assert without
    assert not [n for n in without if n.startswith("notifications")]


def test_a_misspelt_capability_gets_the_closest_names(project: Path) -> None:
    result = _run("explain", str(project), "emails.send_order_confirmaton", "--no-cache")
    _one_line_error(result)
    assert (
        "no capability named 'emails.send_order_confirmaton'; did you mean "
        "notifications.emails.send_order_confirmation?"
    ) in result.stderr
    far = _run("explain", str(project), "inventory", "--no-cache")
    assert "did you mean" not in far.stderr  # nothing close: no guess


def test_an_empty_path_is_refused_not_taken_for_the_current_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)  # a folder that could be analysed
    for command in (["analyze", ""], ["graph", ""], ["explain", "", "checkout"]):
        result = _run(*command)
        _one_line_error(result)
        assert "PATH is empty" in result.stderr
    assert not (project / ".strangler").exists()


def test_ctrl_c_exits_130_with_one_line(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("strangler.commands.analyze.run_analysis", interrupted)
    result = CliRunner().invoke(main, ["analyze", str(project)])
    assert result.exit_code == 130
    assert result.stderr == "strangler: interrupted\n"
    assert result.stdout == ""


def test_standard_output_that_cannot_be_written_is_one_line_exit_2(project: Path) -> None:
    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full on this system")
    with full.open("w") as stdout:
        done = subprocess.run(
            [*STRANGLER, "analyze", str(project), "--no-cache"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr == (
        "strangler: error: cannot write to standard output: No space left on device\n"
    )


SURROGATE = {
    **FILES,
    "orders/models.py": """
        from django.db import models

        class Order(models.Model):
            total = models.IntegerField()

            class Meta:
                db_table = "orders\\udcff"
        """,
}
STRANGLER = [sys.executable, "-c", "import sys; from strangler.cli import main; sys.exit(main())"]


def test_a_lone_surrogate_from_the_analysed_code_is_written_escaped(tmp_path: Path) -> None:
    """``"\\udcff"`` is a valid Python string: the report shows it as an escape instead
    of failing to encode it, into a file and onto a strict UTF-8 stdout alike."""
    root = _write(tmp_path / "shop", SURROGATE)
    out = tmp_path / "report.md"
    args = ["explain", str(root), "checkout", "--no-cache", "--format", "markdown"]
    written = _run(*args, "-o", str(out))
    assert written.exit_code == 0, written.stderr
    assert "written: orders\\udcff" in out.read_text(encoding="utf-8")
    shown = subprocess.run(
        [*STRANGLER, *args],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert b"written: orders\\udcff" in shown.stdout


def test_output_through_a_symlink_writes_its_target_and_keeps_the_link(
    project: Path, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "latest.md").write_text("old report\n")
    link = tmp_path / "report.md"
    link.symlink_to(reports / "latest.md")
    result = _run("analyze", str(project), "--no-cache", "--format", "markdown", "-o", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert (reports / "latest.md").read_text().startswith("# Extractable capabilities")
    assert sorted(p.name for p in reports.iterdir()) == ["latest.md"]  # no temporary left


def test_output_to_dev_stdout_goes_down_a_pipe_and_appends_to_a_file_opened_with_append(
    project: Path, tmp_path: Path
) -> None:
    """``-o /dev/stdout`` names fd 1: a pipe gets the report, and a file the shell
    opened with ``>>`` keeps what it held (a rename would have replaced it)."""
    args = [*STRANGLER, "analyze", str(project), "--no-cache", "--format", "json"]
    piped = subprocess.run([*args, "-o", "/dev/stdout"], capture_output=True, check=False)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["capabilities"]
    log = tmp_path / "log.txt"
    log.write_text("kept\n")
    with log.open("a") as appended:
        done = subprocess.run([*args, "-o", "/dev/stdout"], stdout=appended, check=False)
    assert done.returncode == 0
    text = log.read_text()
    assert text.startswith("kept\n")
    assert json.loads(text[len("kept\n") :])["capabilities"]


def test_output_onto_a_symlink_loop_is_a_one_line_error(project: Path, tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    result = _run("analyze", str(project), "--no-cache", "-o", str(loop))
    _one_line_error(result)
    assert "Too many levels of symbolic links" in result.stderr
    assert loop.is_symlink()


def test_ctrl_c_while_the_cli_is_still_importing_is_one_line_exit_130() -> None:
    stop = (
        "import sys\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'strangler.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Stop())\n"
        "from strangler.__main__ import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", stop], capture_output=True, text=True, check=False)
    assert done.returncode == 130
    assert done.stderr == "strangler: interrupted\n"
    module = [sys.executable, "-m", "strangler", "--version"]
    version = subprocess.run(module, capture_output=True, text=True, check=False)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("strangler, version ")


def test_costs_most_names_the_points_each_component_costs() -> None:
    """The table's "costs most" shows points lost, not values: a capability with no side
    effects loses points for it, and "effects 0" there read as a contradiction."""
    from analyzers.analysis import Capability
    from analyzers.scoring import Component
    from strangler.render.common import key_components

    def part(name: str, value: float, score: float, weight: float) -> Component:
        return Component(name, value, score, weight, "", (), 0)

    cap = Capability(
        rank=1,
        name="a.b",
        anchor="a.b",
        sources=("entry",),
        score=0.0,
        entry_points=("a.b",),
        members=("a.b",),
        size=1,
        tables_read=(),
        tables_written=(),
        components=(
            part("side_effects", 0, 0.25, 1.0),  # loses 0.75 of 4 weight: 18.75 points
            part("shared_writes", 1, 0.5, 2.0),  # loses 1.0 of 4: 25 points
            part("cycles", 0, 1.0, 1.0),  # loses nothing: left out
        ),
        blockers=(),
    )
    assert key_components(cap) == "shared-w -25.0 · effects -18.8"
    assert key_components(cap, limit=1) == "shared-w -25.0"
    lossless = replace(cap, components=(part("cycles", 0, 1.0, 1.0),))
    assert key_components(lossless) == "-"
