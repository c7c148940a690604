"""`strangler route`: list, status, set, history; bad input exits 2 with nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from shims.routing import Mode, Route
from shims.stats import PathStats
from shims.stores import open_store
from strangler.cli import main


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/routes.db"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["route", *args], catch_exceptions=False)


def test_set_then_list(url: str) -> None:
    result = run("set", "orders.confirm", "canary", "--percent", "10", "--store", url)
    assert result.exit_code == 0, result.output
    assert "orders.confirm: unset (monolith) -> canary 10%" in result.output
    run("set", "mail.send", "shadow", "--store", url)
    listing = run("--store", url, "list")
    assert listing.exit_code == 0
    assert "canary 10%" in listing.output
    assert "mail.send" in listing.output
    data = json.loads(run("list", "--store", url, "--format", "json").stdout)
    assert data["routes"] == [
        {"feature": "mail.send", "mode": "shadow", "percent": 0},
        {"feature": "orders.confirm", "mode": "canary", "percent": 10},
    ]


def test_set_writes_the_store_with_actor_and_reason(url: str) -> None:
    run("set", "f", "shadow", "--store", url)
    result = run("set", "f", "FUNCTION", "--reason", "all good", "--actor", "ana", "--store", url)
    assert result.exit_code == 0, result.output
    with open_store(url) as store:
        assert store.get("f") == Route("f", Mode.FUNCTION)
        latest = store.history("f")[0]
    assert (latest.actor, latest.reason, latest.before) == (
        "ana",
        "all good",
        Route("f", Mode.SHADOW),
    )


def test_actor_defaults_to_the_os_user(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "os-user-7")
    run("set", "f", "shadow", "--store", url)
    with open_store(url) as store:
        assert store.history("f")[0].actor == "os-user-7"


def test_history_newest_first(url: str) -> None:
    for percent in ("10", "30"):
        run("set", "f", "canary", "--percent", percent, "--reason", f"to {percent}", "--store", url)
    text = run("history", "f", "--store", url)
    assert text.exit_code == 0
    assert text.output.index("to 30") < text.output.index("to 10")
    data = json.loads(
        run("history", "f", "--limit", "1", "--format", "json", "--store", url).stdout
    )
    assert len(data["changes"]) == 1
    assert data["changes"][0]["after"] == {"mode": "canary", "percent": 30}
    assert data["changes"][0]["before"] == {"mode": "canary", "percent": 10}


def test_history_shows_a_reason_as_written_never_as_markup_or_escapes(url: str) -> None:
    """A ``[/]`` in a reason crashed ``history`` (rich ``MarkupError``); an escape
    sequence reached the terminal."""
    reason = "[/] [bold]x[/bold] \x1b[2J"
    assert run("set", "f", "function", "--reason", reason, "--store", url).exit_code == 0
    result = run("history", "f", "--store", url)
    assert result.exit_code == 0, result.output
    assert "[/] [bold]x[/bold] \\x1b[2J" in result.output
    assert "\x1b" not in result.output


def test_history_of_an_unknown_feature_is_bad_input(url: str) -> None:
    result = run("history", "never.set", "--store", url)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("strangler: error: unknown feature 'never.set'")


def test_status_shows_counters_per_feature_and_path(url: str) -> None:
    run("set", "orders.confirm", "canary", "--percent", "25", "--store", url)
    run("set", "mail.send", "shadow", "--store", url)
    with open_store(url) as store:
        store.add_metrics(
            [
                PathStats(
                    "orders.confirm", "function", {"ok": 8, "error": 1, "fallback": 1}, {40: 10}
                ),
                PathStats("orders.confirm", "monolith", {"ok": 30}, {30: 30}),
                PathStats("mail.send", "shadow", {"match": 4, "mismatch": 2}, {35: 6}),
            ]
        )
    table = run("status", "--store", url)
    assert table.exit_code == 0
    assert "canary 25%" in table.output
    assert "mismatches" in table.output
    data = json.loads(run("status", "--format", "json", "--store", url).stdout)
    by_feature = {f["feature"]: f for f in data["features"]}
    function = next(p for p in by_feature["orders.confirm"]["paths"] if p["path"] == "function")
    assert (function["calls"], function["errors"], function["fallbacks"]) == (10, 1, 1)
    assert function["p50_ms"] == pytest.approx(10.0, rel=0.3)
    assert by_feature["mail.send"]["paths"][0]["mismatches"] == 2
    assert by_feature["orders.confirm"]["percent"] == 25


def test_status_lists_features_with_metrics_but_no_route(url: str) -> None:
    with open_store(url) as store:
        store.add_metrics([PathStats("legacy.thing", "monolith", {"ok": 1}, {30: 1})])
    data = json.loads(run("status", "--format", "json", "--store", url).stdout)
    assert data["features"][0]["feature"] == "legacy.thing"
    assert data["features"][0]["mode"] == "monolith"
    assert data["features"][0]["route_set"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["f", "bogus"], "unknown mode 'bogus'"),
        (["f", "canary"], "canary needs a percent"),
        (["f", "canary", "--percent", "101"], "between 0 and 100"),
        (["f", "canary", "--percent", "-1"], "between 0 and 100"),
        (["f", "canary", "--percent", "ten"], "whole number"),
        (["f", "shadow", "--percent", "5"], "a percent only applies to canary"),
        (["bad feature", "shadow"], "invalid feature name"),
        (["evil\n", "shadow"], "invalid feature name"),  # ``$`` matched before the newline
    ],
)
def test_bad_set_exits_2_with_one_line_and_writes_nothing(
    url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run("set", *args, "--store", url)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not (tmp_path / "routes.db").exists()


def test_bad_set_leaves_an_existing_store_unchanged(url: str) -> None:
    run("set", "f", "shadow", "--store", url)
    assert run("set", "f", "canary", "--percent", "500", "--store", url).exit_code == 2
    with open_store(url) as store:
        assert store.get("f") == Route("f", Mode.SHADOW)
        assert len(store.history("f")) == 1


def test_unknown_store_scheme_exits_2() -> None:
    result = run("list", "--store", "mongodb://admin:hunter2@db/x")
    assert result.exit_code == 2
    assert "hunter2" not in result.output
    assert "unknown route store URL 'mongodb://admin:****@db/x'" in result.stderr


def test_unreachable_store_exits_1_with_the_url_masked() -> None:
    result = run("status", "--store", "redis://:hunter2@127.0.0.1:1/0")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "hunter2" not in result.output
    assert "redis://:****@127.0.0.1:1/0" in result.stderr


def test_a_secret_query_value_is_masked_in_errors() -> None:
    result = run("list", "--store", "rediss://127.0.0.1:1/0?ssl_password=s3cret")
    assert result.exit_code == 1
    assert "s3cret" not in result.output
    assert "ssl_password=****" in result.stderr


@pytest.mark.parametrize(
    "store",
    [
        "redis://:SE#CRET@127.0.0.1:1/0",
        "redis://:12?SECRET@127.0.0.1:1/0",
        "redis://:SE/CRET@h:1/0",
    ],
)
@pytest.mark.parametrize("command", ["list", "status"])
def test_a_password_with_a_delimiter_is_not_quoted_by_an_error(store: str, command: str) -> None:
    """urllib reads ``redis://:SE#CRET@h`` as port ``SE``: its error quoted it."""
    result = run(command, "--store", store)
    assert result.exit_code == 2, result.output
    assert "SE" not in result.output
    assert "CRET" not in result.output
    assert "bad route store URL 'redis://:****@" in result.stderr


def test_store_from_the_environment_is_used_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRANGLER_ROUTE_STORE", "redis://:hunter2@127.0.0.1:1/0")
    result = run("list")
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert "redis://:****@127.0.0.1:1/0" in result.stderr


def test_store_from_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    del settings.STRANGLER
    monkeypatch.delenv("STRANGLER_ROUTE_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.strangler]\nroute_store = "sqlite:///from-toml.db"\n'
    )
    assert run("set", "f", "function").exit_code == 0
    with open_store(f"sqlite:///{tmp_path}/from-toml.db") as store:
        assert store.get("f") == Route("f", Mode.FUNCTION)


def _code(folder: Path) -> None:
    (folder / "manage.py").write_text("", encoding="utf-8")  # a project's folder
    (folder / "shop.py").write_text(
        "from shims import dispatch_only, routed\n\n\n"
        '@routed("orders.confirm", task="t.confirm")\n'
        "def confirm(order_id):\n    return order_id\n\n\n"
        "def ship(order_id):\n"
        '    return dispatch_only(feature="orders.ship", task="t.ship", arguments={})\n',
        encoding="utf-8",
    )


def test_a_first_route_nothing_routes_is_set_with_a_warning_naming_the_close_feature(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt feature is a route nothing reads: ``function`` would look set while
    every call stays on the monolith. The route is still set (the code may be deployed
    later, or live elsewhere), with a warning on stderr."""
    _code(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run("set", "orders.confirn", "function", "--store", url)
    assert result.exit_code == 0
    assert result.stdout.startswith("orders.confirn: unset (monolith) -> function (by ")
    warning = result.stderr.strip()
    assert warning.startswith("strangler: warning: nothing routes 'orders.confirn' yet")
    assert warning.endswith("did you mean 'orders.confirm'?")
    assert len(result.stderr.strip().splitlines()) == 1
    with open_store(url) as store:
        assert store.get("orders.confirn") == Route("orders.confirn", Mode.FUNCTION)
    again = run("set", "orders.confirn", "monolith", "--store", url)
    assert again.stderr == ""  # warned once: the first route only


@pytest.mark.parametrize("feature", ["orders.confirm", "orders.ship", "mail.seen"])
def test_a_feature_the_code_routes_or_a_process_reported_sets_without_a_warning(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, feature: str
) -> None:
    _code(tmp_path)
    monkeypatch.chdir(tmp_path)
    with open_store(url) as store:
        store.add_metrics([PathStats("mail.seen", "monolith", {"ok": 1}, {30: 1})])
    result = run("set", feature, "shadow", "--store", url)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


# ---------------------------------------------------------------- mismatches


def _mismatch(n: int, field: str = "result", monolith: str = "", function: str = "") -> Any:
    from datetime import UTC, datetime, timedelta

    from shims.stores import MismatchSample

    return MismatchSample(
        "orders.confirm",
        f"ev-{n}",
        datetime(2026, 12, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=n),
        field,
        monolith or f'{{"sum": {n}}}',
        function or f'{{"sum": {n + 1}}}',
        f"web-{n}:10{n}",
    )


def test_mismatches_newest_first_with_both_values_side_by_side(url: str) -> None:
    with open_store(url) as store:
        store.add_metrics([PathStats("orders.confirm", "shadow", {"mismatch": 2}, {30: 2})])
        store.add_mismatches([_mismatch(1), _mismatch(2, "mail", "[]", '[{"to": ["a@b"]}]')])
    result = run("mismatches", "orders.confirm", "--store", url)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("ev-2") < out.index("ev-1")
    second = next(line for line in out.splitlines() if "ev-2" in line)
    for cell in ("2026-12-01 09:02:00", "mail", "web-2:102", "[]", '[{"to": ["a@b"]}]'):
        assert cell in second
    assert second.index("[]") < second.index('[{"to"')  # monolith, then function
    assert '{"sum": 1}' in out
    assert '{"sum": 2}' in out
    assert "grep the logs for an event id" in out


def test_mismatch_values_are_shown_as_written_never_as_markup_or_escapes(url: str) -> None:
    value = '"[/] [bold]x[/bold] \x1b[2J [link=https://evil]y[/link]"'
    with open_store(url) as store:
        store.add_mismatches([_mismatch(1, monolith=value)])
    result = run("mismatches", "orders.confirm", "--store", url)
    assert result.exit_code == 0, result.output
    assert "[/] [bold]x[/bold] \\x1b[2J [link=https://evil]y[/link]" in result.stdout
    assert "\x1b" not in result.stdout


def test_mismatches_limit_and_json(url: str) -> None:
    with open_store(url) as store:
        store.add_mismatches([_mismatch(n) for n in range(5)])
    limited = run("mismatches", "orders.confirm", "--limit", "2", "--store", url)
    assert "ev-4" in limited.stdout
    assert "ev-3" in limited.stdout
    assert "ev-2" not in limited.stdout
    assert "--limit 50 shows all that are kept" in limited.stdout
    data = json.loads(
        run(
            "mismatches", "orders.confirm", "--format", "json", "--limit", "2", "--store", url
        ).stdout
    )
    assert data["feature"] == "orders.confirm"
    assert [m["event_id"] for m in data["mismatches"]] == ["ev-4", "ev-3"]
    assert data["mismatches"][0] == {
        "feature": "orders.confirm",
        "event_id": "ev-4",
        "at": "2026-12-01T09:04:00+00:00",
        "field": "result",
        "monolith": '{"sum": 4}',
        "function": '{"sum": 5}',
        "process": "web-4:104",
    }
    assert run("mismatches", "orders.confirm", "--limit", "0", "--store", url).exit_code == 2


def test_mismatches_of_an_unknown_feature_is_bad_input(url: str) -> None:
    run("set", "orders.confirm", "shadow", "--store", url)
    for fmt in ("table", "json"):
        result = run("mismatches", "orders.confirn", "--format", fmt, "--store", url)
        assert result.exit_code == 2
        assert result.stdout == ""
        error = result.stderr.strip()
        assert error.startswith("strangler: error: unknown feature 'orders.confirn'")
        assert error.endswith("did you mean 'orders.confirm'?")
        assert len(error.splitlines()) == 1


@pytest.mark.parametrize(
    ("stats", "says"),
    [
        (None, "it has not run in shadow mode yet (strangler route set orders.confirm shadow)"),
        ({"match": 7}, "no shadow mismatches recorded in sqlite:///"),
        ({"match": 1, "mismatch": 3}, "3 shadow mismatches counted, but none kept"),
    ],
)
def test_a_known_feature_without_mismatches_says_so_in_one_line(
    url: str, stats: dict[str, int] | None, says: str
) -> None:
    run("set", "orders.confirm", "shadow", "--store", url)
    if stats is not None:
        with open_store(url) as store:
            store.add_metrics([PathStats("orders.confirm", "shadow", stats, {30: 1})])
    result = run("mismatches", "orders.confirm", "--store", url)
    assert result.exit_code == 0
    assert says in result.stdout
    assert len(result.stdout.strip().splitlines()) == 1
    data = json.loads(
        run("mismatches", "orders.confirm", "--format", "json", "--store", url).stdout
    )
    assert data["mismatches"] == []


def test_mismatches_of_a_store_not_created_yet(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/absent/routes.db"
    result = run("mismatches", "orders.confirm", "--store", url)
    assert result.exit_code == 2
    assert not (tmp_path / "absent").exists()


def test_status_points_at_the_recent_mismatches(url: str) -> None:
    with open_store(url) as store:
        store.add_metrics(
            [
                PathStats("orders.confirm", "shadow", {"mismatch": 3, "match": 1}, {30: 4}),
                PathStats("mail.send", "shadow", {"match": 2}, {30: 2}),
            ]
        )
        store.add_mismatches([_mismatch(n) for n in range(3)])
    text = run("status", "--store", url).stdout
    assert "orders.confirm: 3 recent mismatches: strangler route mismatches orders.confirm" in text
    assert "mail.send:" not in text
    data = json.loads(run("status", "--format", "json", "--store", url).stdout)
    recent = {f["feature"]: f["recent_mismatches"] for f in data["features"]}
    assert recent == {"mail.send": 0, "orders.confirm": 3}


def test_outside_a_project_folder_no_code_is_walked_and_the_warning_says_so(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from a home folder, ``route set`` must not walk everything under it: code is
    looked for only where a pyproject.toml, manage.py, setup.py or setup.cfg says a
    project lives."""
    _code(tmp_path)
    (tmp_path / "manage.py").unlink()
    monkeypatch.chdir(tmp_path)
    result = run("set", "orders.confirm", "function", "--store", url)
    assert result.exit_code == 0
    assert "is no project folder, so no code was checked" in result.stderr
