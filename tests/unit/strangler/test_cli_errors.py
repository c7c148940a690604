"""Usage errors of every command are one line on stderr, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from shims.deadletter import open_dead_letters
from strangler.cli import main


@pytest.mark.parametrize(
    "args",
    [
        ["dlq", "show", "999"],
        ["dlq", "replay", "999"],  # built the broker's and the results' folders
        ["dlq", "replay", "1", "--broker", "bogus://x"],
        ["dlq", "list", "--url", ""],
        ["dlq", "replay"],
        ["dlq", "replay", "5", "--all"],
        ["dlq", "list", "--url", "bogus://"],
        ["dlq", "list", "--limit", "0"],
        ["outbox", "relay", "--settings", "no.such"],
        ["route", "--store", "redis://127.0.0.1:1/0?socket_timeout=abc", "list"],
        ["route", "--store", "memory://", "set", "x", "function"],
        # redis-py passes unknown query keys on as keywords: a TypeError, once
        ["route", "list", "--store", "redis://127.0.0.1:6379/0?x=1"],
        ["route", "list", "--store", "redis://127.0.0.1:6379/0?Password=s3cret"],
        ["route", "list", "--store", "redis://127.0.0.1:6379/0?sentinel_password=s3cret"],
        ["route", "set", "x", "function", "--store", "redis://127.0.0.1:6379/0?x=1"],
        ["dlq", "list", "--url", "redis://127.0.0.1:6379/0?x=1"],
        ["dlq", "list", "--url", "rediss://127.0.0.1:6379/0?sentinel_password=s3cret"],
        # ... and reads a database that is not a number as database 0
        ["route", "list", "--store", "redis://127.0.0.1:6379/notadb"],
        ["dlq", "list", "--url", "redis://127.0.0.1:6379/notadb"],
        ["route", "set", "x", "sideways"],
        ["no-such-command"],
    ],
    ids=lambda a: " ".join(a),
)
def test_usage_errors_are_one_line_exit_2_and_write_nothing(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("STRANGLER_DLQ_URL", "STRANGLER_ROUTE_STORE", "DJANGO_SETTINGS_MODULE"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("strangler: error: ")
    assert "Traceback" not in result.output
    assert "s3cret" not in result.output
    assert list(tmp_path.iterdir()) == [], "something was written"


def _one_error_line(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("strangler: error: "), lines[0]
    return lines[0]


@pytest.fixture
def dead_letters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite dead-letter store holding entry #1, in an empty working directory."""
    url = f"sqlite:///{tmp_path}/state/handlers.db"
    store = open_dead_letters(url)
    store.add("t.x", {"id": "e1"}, "error", 3, "boom")
    store.close()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return url


@pytest.mark.parametrize("kind", ["a folder", "not a database"])
@pytest.mark.parametrize(
    "args", [["list"], ["show", "1"], ["purge", "--yes"], ["replay", "1"]], ids=" ".join
)
def test_an_unreadable_sqlite_dlq_is_one_line_exit_1(
    args: list[str], kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "handlers.db"
    if kind == "a folder":
        path.mkdir()
    else:
        path.write_text("not sqlite\n")
    result = CliRunner().invoke(main, ["dlq", *args, "--url", f"sqlite:///{path}"])
    line = _one_error_line(result, 1)
    assert f"dead-letter store sqlite:///{path}: " in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handlers.db"]


def test_dlq_list_shows_event_data_as_written_never_as_markup_or_escapes(
    dead_letters: str,
) -> None:
    """An event's id and error are the sender's text: a ``[/]`` in them crashed ``dlq
    list`` (rich ``MarkupError``), a ``[link=...]`` or an escape sequence reached the
    operator's terminal."""
    store = open_dead_letters(dead_letters)
    store.add("t.x", {"id": "[/]"}, "invalid", 1, "[link=https://x.example]y[/link] \x1b[2J")
    store.close()
    result = CliRunner().invoke(main, ["dlq", "list", "--url", dead_letters])
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output
    assert "[link=" in result.output
    assert "\x1b" not in result.output


def test_an_unreachable_dlq_is_one_line_exit_1_masked() -> None:
    result = CliRunner().invoke(main, ["dlq", "list", "--url", "redis://:hunter2@127.0.0.1:1/0"])
    line = _one_error_line(result, 1)
    assert "redis://:****@127.0.0.1:1/0 unreachable" in line
    assert "hunter2" not in result.output


def test_a_bad_broker_is_exit_2_and_writes_nothing(dead_letters: str) -> None:
    result = CliRunner().invoke(
        main, ["dlq", "replay", "1", "--url", dead_letters, "--broker", "bogus://:pw@x"]
    )
    line = _one_error_line(result, 2)
    assert "unknown broker transport in 'bogus://:****@x'" in line
    assert list(Path.cwd().iterdir()) == []
    assert open_dead_letters(dead_letters).get(1) is not None


def test_a_failed_replay_is_one_line_exit_1_and_keeps_the_entry(dead_letters: str) -> None:
    result = CliRunner().invoke(
        main, ["dlq", "replay", "1", "--url", dead_letters, "--broker", "redis://127.0.0.1:1/0"]
    )
    line = _one_error_line(result, 1)
    assert "replay of #1 failed, entry kept" in line
    assert open_dead_letters(dead_letters).get(1) is not None


@pytest.mark.parametrize(
    "args", [["list", "--store", ""], ["--store", "", "set", "x", "function"]], ids=" ".join
)
def test_an_empty_store_option_is_bad_input(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty option (an unset shell variable) must not mean the configured store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRANGLER_ROUTE_STORE", f"sqlite:///{tmp_path}/routes.db")
    result = CliRunner().invoke(main, ["route", *args])
    assert "--store is empty" in _one_error_line(result, 2)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def monolith(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one entry point routed as ``shop.f``, in a clean working directory."""
    root = tmp_path / "mono"
    root.mkdir()
    (root / "shop.py").write_text(
        'from shims import routed\n\n\n@routed("shop.f")\ndef f(x):\n    return x\n'
    )
    monkeypatch.chdir(tmp_path)
    return root


def test_retire_of_an_unknown_feature_is_bad_input(monolith: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/routes.db"
    result = CliRunner().invoke(main, ["retire", str(monolith), "shop.nope", "--store", store])
    line = _one_error_line(result, 2)
    assert "unknown feature 'shop.nope'" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mono"]


def test_retire_of_a_feature_not_at_function_is_refused(monolith: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/routes.db"
    result = CliRunner().invoke(main, ["retire", str(monolith), "shop.f", "--store", store])
    line = _one_error_line(result, 1)
    assert "shop.f routes to unset (monolith)" in line


def test_retire_with_an_empty_store_is_bad_input(monolith: Path) -> None:
    result = CliRunner().invoke(main, ["retire", str(monolith), "shop.f", "--store", ""])
    assert "--store is empty" in _one_error_line(result, 2)


def test_dlq_list_without_a_store_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STRANGLER_DLQ_URL", raising=False)
    monkeypatch.delenv("STRANGLER_ROUTE_STORE", raising=False)
    result = CliRunner().invoke(main, ["dlq", "list"])
    assert result.exit_code == 0, result.output
    assert "no dead-letter store at sqlite:///.strangler/handlers.db" in result.output
    assert not (tmp_path / ".strangler").exists()


def test_memory_store_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(main, ["route", "--store", "memory://", "set", "x", "function"])
    assert result.exit_code == 2
    assert "memory://" in result.stderr
    assert "dies with" in result.stderr
