"""One contract, every backend: what `RouteStore` promises, run against each store.

Like kombu's transport tests: the behaviour lives in `RouteStoreContract`, and each
backend only says how to open a fresh store.
"""

from __future__ import annotations

import itertools
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shims.routing import Mode, Route
from shims.stats import PathStats
from shims.stores import (
    MISMATCH_SAMPLES,
    MismatchSample,
    RouteStore,
    StoreConfigError,
    open_store,
)
from shims.stores.memory import MemoryStore
from shims.stores.redis import RedisStore
from shims.stores.sqlite import SqliteStore
from tests.conftest import REDIS_DBS

REDIS_DB = REDIS_DBS["unit.stores.contract"]  # this file's own database (tests/conftest.py)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def sample(
    n: int, feature: str = "f", *, field: str = "result", process: str = "web-1:101"
) -> MismatchSample:
    """The ``n``-th mismatch: seen ``n`` seconds after T0, event ``ev-n``."""
    return MismatchSample(
        feature,
        f"ev-{n}",
        T0 + timedelta(seconds=n),
        field,
        f'{{"sum": {n}}}',
        f'{{"sum": {n + 1}}}',
        process,
    )


class RouteStoreContract:
    """Subclasses provide a `store` fixture that yields a fresh, empty store."""

    def test_unknown_feature_has_no_route(self, store: RouteStore) -> None:
        assert store.get("nobody.set.this") is None
        assert store.all() == {}
        assert store.history("nobody.set.this") == []

    def test_set_then_get_and_all(self, store: RouteStore) -> None:
        store.set(Route("orders.confirm", Mode.CANARY, 25), actor="ana", reason="ramp")
        store.set(Route("mail.send", Mode.SHADOW), actor="ana")
        assert store.get("orders.confirm") == Route("orders.confirm", Mode.CANARY, 25)
        assert store.all() == {
            "orders.confirm": Route("orders.confirm", Mode.CANARY, 25),
            "mail.send": Route("mail.send", Mode.SHADOW),
        }

    def test_set_returns_the_change_with_before_and_after(self, store: RouteStore) -> None:
        first = store.set(Route("f", Mode.SHADOW), actor="ana", reason="start")
        second = store.set(Route("f", Mode.CANARY, 10), actor="bo", reason="ramp up")
        assert first.before is None
        assert first.after == Route("f", Mode.SHADOW)
        assert second.before == Route("f", Mode.SHADOW)
        assert second.after == Route("f", Mode.CANARY, 10)
        assert (second.actor, second.reason, second.feature) == ("bo", "ramp up", "f")

    def test_history_is_newest_first_with_who_when_from_to_why(self, store: RouteStore) -> None:
        start = datetime.now(UTC) - timedelta(seconds=1)
        for percent in (10, 30, 60):
            store.set(
                Route("f", Mode.CANARY, percent), actor=f"op{percent}", reason=f"to {percent}"
            )
        store.set(Route("other", Mode.FUNCTION), actor="x")
        history = store.history("f")
        assert [c.after.percent for c in history] == [60, 30, 10]
        assert [c.before.percent if c.before else None for c in history] == [30, 10, None]
        assert [c.actor for c in history] == ["op60", "op30", "op10"]
        assert history[0].reason == "to 60"
        assert all(c.feature == "f" for c in history)
        assert all(start <= c.at <= datetime.now(UTC) for c in history)
        assert all(c.at.tzinfo is not None for c in history)

    def test_history_limit(self, store: RouteStore) -> None:
        for percent in range(5):
            store.set(Route("f", Mode.CANARY, percent), actor="a")
        assert [c.after.percent for c in store.history("f", limit=2)] == [4, 3]
        assert store.history("f", limit=0) == []

    def test_concurrent_sets_each_leave_one_audit_entry(self, store: RouteStore) -> None:
        def ramp(offset: int) -> None:
            for i in range(10):
                store.set(Route("f", Mode.CANARY, offset + i), actor=f"t{offset}")

        threads = [threading.Thread(target=ramp, args=(o,)) for o in (0, 50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        history = list(reversed(store.history("f", limit=100)))
        assert len(history) == 20
        # The chain of before/after is unbroken: each change replaced the previous one.
        assert history[0].before is None
        for previous, change in itertools.pairwise(history):
            assert change.before == previous.after

    def test_metrics_add_up_across_flushes(self, store: RouteStore) -> None:
        store.add_metrics(
            [
                PathStats("f", "monolith", {"ok": 3, "error": 1}, {10: 2, 20: 2}),
                PathStats("f", "function", {"ok": 1}, {30: 1}),
            ]
        )
        store.add_metrics([PathStats("f", "monolith", {"ok": 2, "fallback": 1}, {20: 3})])
        metrics = store.read_metrics()
        assert set(metrics) == {("f", "monolith"), ("f", "function")}
        mono = metrics[("f", "monolith")]
        assert dict(mono.outcomes) == {"ok": 5, "error": 1, "fallback": 1}
        assert dict(mono.latency) == {10: 2, 20: 5}
        assert (mono.calls, mono.errors, mono.fallbacks) == (7, 1, 1)
        assert dict(metrics[("f", "function")].outcomes) == {"ok": 1}

    def test_empty_metrics(self, store: RouteStore) -> None:
        store.add_metrics([])
        assert store.read_metrics() == {}

    def test_no_mismatches_recorded(self, store: RouteStore) -> None:
        store.add_mismatches([])
        assert store.read_mismatches("nobody.saw.this") == []

    def test_mismatches_newest_first_per_feature_with_every_field(self, store: RouteStore) -> None:
        store.add_mismatches([sample(1), sample(2, field="mail", process="web-2:7")])
        store.add_mismatches([sample(3, "other"), sample(4)])
        assert store.read_mismatches("f") == [
            sample(4),
            sample(2, field="mail", process="web-2:7"),
            sample(1),
        ]
        assert store.read_mismatches("other") == [sample(3, "other")]
        newest = store.read_mismatches("f")[0]
        assert newest.at == T0 + timedelta(seconds=4)
        assert newest.at.tzinfo is not None

    def test_mismatches_are_ordered_by_when_they_were_seen_not_by_flush(
        self, store: RouteStore
    ) -> None:
        # Two processes flush on their own schedule: the later flush may carry the
        # older sample.
        store.add_mismatches([sample(5, process="web-1:101")])
        store.add_mismatches([sample(3, process="web-2:202")])
        assert [m.event_id for m in store.read_mismatches("f")] == ["ev-5", "ev-3"]

    def test_mismatches_keep_only_the_newest_per_feature(self, store: RouteStore) -> None:
        store.add_mismatches([sample(n, "quiet") for n in range(3)])
        store.add_mismatches([sample(n) for n in range(1, 40)])
        store.add_mismatches([sample(n) for n in range(40, MISMATCH_SAMPLES + 11)])
        kept = store.read_mismatches("f", limit=1000)
        assert len(kept) == MISMATCH_SAMPLES
        assert [m.event_id for m in kept[:2]] == [f"ev-{MISMATCH_SAMPLES + 10}", f"ev-{59}"]
        assert kept[-1].event_id == "ev-11"  # ev-1 .. ev-10 dropped, oldest first
        # a sample older than all that are kept, arriving late, is not kept either
        store.add_mismatches([sample(0)])
        assert "ev-0" not in {m.event_id for m in store.read_mismatches("f", limit=1000)}
        # the bound is per feature: another feature's samples were not pushed out
        assert len(store.read_mismatches("quiet")) == 3

    def test_a_resent_mismatch_is_kept_once(self, store: RouteStore) -> None:
        store.add_mismatches([sample(1), sample(2)])
        store.add_mismatches([sample(2)])  # a retried flush whose first try did land
        assert [m.event_id for m in store.read_mismatches("f")] == ["ev-2", "ev-1"]

    def test_mismatches_limit(self, store: RouteStore) -> None:
        store.add_mismatches([sample(n) for n in range(5)])
        assert [m.event_id for m in store.read_mismatches("f", limit=2)] == ["ev-4", "ev-3"]
        assert store.read_mismatches("f", limit=0) == []

    def test_mismatch_values_are_kept_as_written(self, store: RouteStore) -> None:
        odd = MismatchSample(
            "f.odd:x-1",
            "ev-\u00e9",
            T0,
            "result",
            '"[/] [bold]x[/bold] \x1b[2J \u00e9 \\n"' + "é" * 400 + "…",
            '{"a": null, "b": "\\u0000"}',
            "host.example:65535",
        )
        store.add_mismatches([odd])
        assert store.read_mismatches("f.odd:x-1") == [odd]

    def test_url_is_kept(self, store: RouteStore) -> None:
        assert isinstance(store.url, str)
        assert store.url


class TestMemoryStore(RouteStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[RouteStore]:
        with open_store("memory://") as store:
            assert isinstance(store, MemoryStore)
            yield store

    def test_named_memory_stores_are_shared_in_process(self) -> None:
        name = f"shared-{uuid.uuid4().hex}"
        open_store(f"memory://{name}").set(Route("f", Mode.FUNCTION), actor="a")
        assert open_store(f"memory://{name}").get("f") == Route("f", Mode.FUNCTION)
        assert open_store("memory://").get("f") is None


class TestSqliteStore(RouteStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[RouteStore]:
        with open_store(f"sqlite:///{tmp_path}/nested/routes.db") as store:
            assert isinstance(store, SqliteStore)
            yield store

    def test_file_survives_reopen_and_uses_wal(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path}/routes.db"
        with open_store(url) as store:
            store.set(Route("f", Mode.SHADOW), actor="a")
        with open_store(url) as again:
            assert again.get("f") == Route("f", Mode.SHADOW)
            assert len(again.history("f")) == 1
        assert (tmp_path / "routes.db-wal").exists() or (tmp_path / "routes.db").exists()
        import sqlite3

        with sqlite3.connect(tmp_path / "routes.db") as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    def test_a_forked_child_gets_its_own_connection(self, store: RouteStore) -> None:
        import multiprocessing

        store.set(Route("f", Mode.SHADOW), actor="parent")

        def child() -> None:
            store.set(Route("f", Mode.FUNCTION), actor="child")

        process = multiprocessing.get_context("fork").Process(target=child)
        process.start()
        process.join(timeout=30)
        assert process.exitcode == 0
        assert store.get("f") == Route("f", Mode.FUNCTION)
        assert [c.actor for c in store.history("f")] == ["child", "parent"]

    def test_relative_path_is_relative_to_the_working_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        with open_store("sqlite:///.strangler/routes.db") as store:
            store.set(Route("f", Mode.SHADOW), actor="a")
        assert (tmp_path / ".strangler" / "routes.db").is_file()

    def test_url_without_a_path_is_refused(self) -> None:
        with pytest.raises(StoreConfigError, match="sqlite:///relative"):
            open_store("sqlite:///")


@pytest.mark.redis
class TestRedisStore(RouteStoreContract):
    @pytest.fixture
    def store(self, redis_server: str) -> Iterator[RouteStore]:
        import redis

        client = redis.Redis.from_url(f"{redis_server}/{REDIS_DB}")
        client.flushdb()
        with open_store(f"{redis_server}/{REDIS_DB}") as store:
            assert isinstance(store, RedisStore)
            yield store
        client.flushdb()
        client.close()

    def test_prefix_isolates_two_stores_in_one_database(
        self, store: RouteStore, redis_server: str
    ) -> None:
        with open_store(f"{redis_server}/{REDIS_DB}?prefix=other:") as other:
            other.set(Route("f", Mode.FUNCTION), actor="a")
            other.add_mismatches([sample(1)])
            assert store.get("f") is None
            assert store.read_mismatches("f") == []
            assert other.get("f") == Route("f", Mode.FUNCTION)
            assert other.read_mismatches("f") == [sample(1)]

    def test_mismatch_keys_live_under_the_prefix(self, redis_server: str) -> None:
        import redis

        client = redis.Redis.from_url(f"{redis_server}/{REDIS_DB}", decode_responses=True)
        with open_store(f"{redis_server}/{REDIS_DB}?prefix=mm-test:") as store:
            store.add_mismatches([sample(1)])
        assert client.keys("*mismatches*") == ["mm-test:mismatches:f"]
        client.close()


def test_unknown_scheme_is_a_one_line_value_error() -> None:
    with pytest.raises(ValueError, match=r"unknown route store URL 'mongodb://") as info:
        open_store("mongodb://user:hunter2@db/routes")
    message = str(info.value)
    assert "\n" not in message
    assert "hunter2" not in message
    assert "****" in message
    assert "sqlite://" in message
    assert "redis://" in message
    assert "memory://" in message


def test_missing_scheme_is_refused() -> None:
    with pytest.raises(StoreConfigError):
        open_store("/tmp/routes.db")


def test_unreachable_redis_raises_store_unavailable_with_masked_url() -> None:
    from shims.stores import StoreUnavailable

    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    store = open_store("redis://:s3cret@127.0.0.1:1/0", timeout=0.2)
    with pytest.raises(StoreUnavailable) as info:
        store.all()
    store.close()
    assert "s3cret" not in str(info.value)
    assert "redis://:****@127.0.0.1:1/0" in str(info.value)


def test_unusable_sqlite_file_raises_store_unavailable(tmp_path: Path) -> None:
    from shims.stores import StoreUnavailable

    (tmp_path / "routes.db").write_text("this is not a database " * 100)
    with pytest.raises(StoreUnavailable, match=r"routes\.db"):
        open_store(f"sqlite:///{tmp_path}/routes.db")


def test_redis_store_without_the_redis_package_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # what an absent package looks like
    with pytest.raises(StoreConfigError, match=r"pip install 'strangler\[redis\]'") as info:
        open_store("redis://:pw@127.0.0.1:6379/0")
    assert "pw" not in str(info.value).replace("pip", "")
