"""Usage errors of every command are one line on stderr, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from strangler.cli import main


@pytest.mark.parametrize(
    "args",
    [
        ["dlq", "show", "999"],
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
