"""The process-wide runtime and the routing-key contextvar."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shims.context import current_key, use_key
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime
from shims.stores import RouteStore, StoreUnavailable, open_store
from shims.stores.lazy import LazyStore
from shims.table import RouteTable


@pytest.fixture(autouse=True)
def fresh_runtime() -> Iterator[None]:
    reset_runtime()
    yield
    reset_runtime()


def test_get_runtime_is_built_once_and_shared() -> None:
    # The session's Django settings name memory://, so this needs no file or server.
    first = get_runtime()
    assert first is get_runtime()
    assert first.settings.route_store_url == "memory://"


def test_concurrent_first_use_builds_one_runtime() -> None:
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_runtime())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(rt) for rt in seen}) == 1


def test_configure_replaces_the_runtime() -> None:
    old = get_runtime()
    new = configure(route_store_url="memory://", route_ttl=0)
    assert new is get_runtime()
    assert new is not old
    new.store.set(Route("f", Mode.FUNCTION), actor="t")
    assert get_runtime().table.get("f") == Route("f", Mode.FUNCTION)


def test_configure_refuses_unknown_settings() -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        configure(route_sotre_url="memory://")


def test_reset_flushes_metrics_before_closing() -> None:
    rt = configure(route_store_url="memory://runtime-reset-test", metrics_flush_interval=3600)
    rt.metrics.record("f", "monolith", "ok", 0.001)
    reset_runtime()
    from shims.stores import open_store

    assert open_store("memory://runtime-reset-test").read_metrics()[("f", "monolith")].calls == 1


def test_use_key_sets_and_restores() -> None:
    assert current_key() is None
    with use_key("user-1"):
        assert current_key() == "user-1"
        with use_key("user-2"):
            assert current_key() == "user-2"
        assert current_key() == "user-1"
    assert current_key() is None


def test_use_key_restores_after_an_exception() -> None:
    with pytest.raises(RuntimeError), use_key("user-1"):
        raise RuntimeError
    assert current_key() is None


def test_keys_do_not_leak_between_concurrent_tasks() -> None:
    async def handle(key: str) -> str | None:
        with use_key(key):
            await asyncio.sleep(0.01)
            return current_key()

    async def main() -> list[str | None]:
        return list(await asyncio.gather(*(handle(f"u{i}") for i in range(20))))

    assert asyncio.run(main()) == [f"u{i}" for i in range(20)]


# ---------------------------------------------------------------- a store that cannot open


def _broken_store_urls(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "notdb").write_bytes(b"this is not a SQLite database, it is text" * 100)
    return {
        "not a database": f"sqlite:///{tmp_path}/notdb",
        "a folder": f"sqlite:///{tmp_path}",
        "unknown scheme": "bogus://x",
        "database not a number": "redis://:s3cret@h/notadb",
    }


@pytest.mark.parametrize(
    "case", ["not a database", "a folder", "unknown scheme", "database not a number"]
)
def test_a_store_that_cannot_open_leaves_the_monolith_running(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Docs (routing.md): routes never known route every feature to the monolith; a
    broken store or a bad store URL must not make every routed call raise."""
    from shims.dispatch import routed

    monkeypatch.setenv("STRANGLER_ROUTE_STORE", _broken_store_urls(tmp_path)[case])
    calls: list[int] = []

    @routed("u.broken-store", task="t.broken-store")
    def body(n: int) -> int:
        calls.append(n)
        return n * 2

    with caplog.at_level(logging.WARNING):
        assert [body(1), body(2), body(3)] == [2, 4, 6]
    assert calls == [1, 2, 3]
    assert get_runtime().table.get("u.broken-store") is None
    assert "s3cret" not in caplog.text
    table_warnings = [r for r in caplog.records if r.name == "shims.table"]
    assert len(table_warnings) == 1  # once per outage, not once per call
    assert "routing to monolith" in table_warnings[0].getMessage()


def test_a_misconfigured_store_is_logged_loudly_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rt = configure(route_store_url="redis://:s3cret@h/notadb", route_ttl=0)
    with caplog.at_level(logging.ERROR, logger="shims.stores"):
        for _ in range(3):
            assert rt.table.get("f") is None
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "misconfigured" in record.getMessage()
    assert "the database must be a number" in record.getMessage()
    assert "s3cret" not in caplog.text


class _Opener:
    """Counts opening attempts; fails until ``store`` is set."""

    def __init__(self) -> None:
        self.attempts = 0
        self.store: RouteStore | None = None

    def __call__(self, url: str) -> RouteStore:
        self.attempts += 1
        if self.store is None:
            raise StoreUnavailable(f"route store {url}: down")
        return self.store


def test_a_store_that_failed_to_open_is_tried_again_once_per_interval() -> None:
    now = [0.0]
    opener = _Opener()
    store = LazyStore("x://", opener, retry=5.0, clock=lambda: now[0])
    for _ in range(100):
        with pytest.raises(StoreUnavailable, match="down"):
            store.all()
    assert opener.attempts == 1  # never an attempt per call
    now[0] = 5.0
    opener.store = open_store("memory://")
    opener.store.set(Route("f", Mode.FUNCTION), actor="t")
    assert store.all() == {"f": Route("f", Mode.FUNCTION)}
    store.all()
    assert opener.attempts == 2  # opened once: the open store is kept


def test_the_route_table_picks_up_routes_once_the_store_opens() -> None:
    now = [0.0]
    opener = _Opener()
    table = RouteTable(LazyStore("x://", opener, retry=1.0, clock=lambda: now[0]), 1.0,
                       clock=lambda: now[0])  # fmt: skip
    assert table.get("f") is None  # the monolith
    opener.store = open_store("memory://")
    opener.store.set(Route("f", Mode.FUNCTION), actor="t")
    now[0] = 1.0  # the next TTL refresh opens it
    assert table.get("f") == Route("f", Mode.FUNCTION)


def test_a_forked_child_does_not_wait_for_a_lock_its_parent_held() -> None:
    opener = _Opener()
    opener.store = open_store("memory://")
    store = LazyStore("x://", opener)
    store._lock.acquire()  # a parent thread was opening the store when it forked
    store._pid = -1  # this process is the child
    assert store.all() == {}


def test_a_forked_child_closes_a_store_whose_lock_its_parent_held() -> None:
    store = LazyStore("x://", _Opener())
    store._lock.acquire()  # a parent thread was opening the store when it forked
    store._pid = -1  # this process is the child
    closing = threading.Thread(target=store.close, daemon=True)
    closing.start()
    closing.join(2.0)
    assert not closing.is_alive()  # it hung on the parent's lock before


def test_settings_that_do_not_load_leave_the_monolith_running(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad strangler setting must not take the monolith down: every routed call
    raised the settings' ValueError and the body never ran."""
    from shims.dispatch import routed

    monkeypatch.setenv("STRANGLER_ROUTE_TTL", "soon")
    reset_runtime()
    calls: list[int] = []

    @routed("u.bad-settings", task="t.bad-settings")
    def body(n: int) -> int:
        calls.append(n)
        return n + 1

    with caplog.at_level(logging.ERROR, logger="shims.runtime"):
        assert [body(1), body(2)] == [2, 3]
    assert calls == [1, 2]
    errors = [r.getMessage() for r in caplog.records if r.name == "shims.runtime"]
    assert len(errors) == 1, errors  # once, when the runtime is built
    assert "route_ttl" in errors[0]
    assert "every feature routes to the monolith" in errors[0]
    with pytest.raises(ValueError, match="route_ttl"):
        configure()  # an explicit configure() still says what is wrong
