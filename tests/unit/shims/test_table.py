"""RouteTable: one store read per TTL, last known routes on outage, monolith if never known."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pytest

from shims.routing import Mode, Path, Route, decide
from shims.stats import PathStats
from shims.stores.base import Change, MismatchSample, RouteStore, StoreUnavailable
from shims.stores.memory import MemoryStore
from shims.table import RouteTable


class CountingStore(MemoryStore):
    """A memory store that counts reads and can be switched off like a dead server."""

    def __init__(self) -> None:
        super().__init__("redis://:pw@10.0.0.1:6379/0")
        self.reads = 0
        self.down = False

    def all(self) -> dict[str, Route]:
        self.reads += 1
        if self.down:
            raise StoreUnavailable("route store redis://:****@10.0.0.1:6379/0: refused")
        return super().all()


class BrokenStore(RouteStore):
    """A store that was never reachable."""

    url = "redis://:pw@nowhere:6379/0"

    def get(self, feature: str) -> Route | None:
        raise ConnectionError

    def all(self) -> dict[str, Route]:
        raise ConnectionError("nowhere:6379 refused (password pw)")

    def set(self, route: Route, *, actor: str, reason: str = "") -> Change:
        raise ConnectionError

    def history(self, feature: str, limit: int = 50) -> list[Change]:
        raise ConnectionError

    def add_metrics(self, batch: Iterable[PathStats]) -> None:
        raise ConnectionError

    def read_metrics(self) -> dict[tuple[str, str], PathStats]:
        raise ConnectionError

    def add_mismatches(self, samples: Iterable[MismatchSample]) -> None:
        raise ConnectionError

    def read_mismatches(self, feature: str, limit: int = 50) -> list[MismatchSample]:
        raise ConnectionError

    def close(self) -> None:
        pass


def test_reads_the_store_once_per_ttl_not_once_per_call() -> None:
    store = CountingStore()
    store.set(Route("f", Mode.FUNCTION), actor="a")
    table = RouteTable(store, ttl=60)
    for _ in range(1000):
        assert table.get("f") == Route("f", Mode.FUNCTION)
        assert table.get("unknown") is None
    assert store.reads == 1


class FakeClock:
    """A monotonic clock the test moves by hand: TTL tests that cannot flake."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_change_is_seen_after_the_ttl_and_not_before() -> None:
    store = CountingStore()
    store.set(Route("f", Mode.SHADOW), actor="a")
    clock = FakeClock()
    table = RouteTable(store, ttl=1.0, clock=clock)
    assert table.get("f") == Route("f", Mode.SHADOW)
    store.set(Route("f", Mode.FUNCTION), actor="a")
    clock.now += 0.999
    assert table.get("f") == Route("f", Mode.SHADOW)  # still cached
    assert store.reads == 1
    clock.now += 0.001
    assert table.get("f") == Route("f", Mode.FUNCTION)  # the TTL is up: re-read
    assert store.reads == 2


def test_ttl_zero_reads_every_time() -> None:
    store = CountingStore()
    table = RouteTable(store, ttl=0)
    for _ in range(5):
        table.get("f")
    assert store.reads == 5


def test_outage_keeps_the_last_known_routes_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = CountingStore()
    store.set(Route("f", Mode.CANARY, 40), actor="a")
    table = RouteTable(store, ttl=0)
    assert table.get("f") == Route("f", Mode.CANARY, 40)
    store.down = True
    with caplog.at_level(logging.WARNING, logger="shims.table"):
        for _ in range(10):
            assert table.get("f") == Route("f", Mode.CANARY, 40)
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert "pw@" not in caplog.text
    assert "****" in caplog.text
    assert "keeping the last known routes" in caplog.text


def test_recovery_picks_up_changes_made_during_the_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = CountingStore()
    table = RouteTable(store, ttl=0)
    table.get("f")
    store.down = True
    table.get("f")
    store.set(Route("f", Mode.FUNCTION), actor="a")
    store.down = False
    with caplog.at_level(logging.WARNING, logger="shims.table"):
        assert table.get("f") == Route("f", Mode.FUNCTION)
    assert "reachable again" in caplog.text


def test_outage_retries_at_most_once_per_ttl() -> None:
    store = CountingStore()
    table = RouteTable(store, ttl=60)
    table.get("f")
    store.down = True
    table.invalidate()
    for _ in range(100):
        table.get("f")
    assert store.reads == 2


def test_never_known_routes_to_the_monolith(caplog: pytest.LogCaptureFixture) -> None:
    table = RouteTable(BrokenStore(), ttl=0)
    with caplog.at_level(logging.WARNING, logger="shims.table"):
        route = table.get("orders.confirm")
    assert route is None
    assert decide(route, "user-1") is Path.MONOLITH
    assert table.loaded is False
    assert "routing to monolith" in caplog.text
    assert "pw" not in caplog.text.replace("password", "")


def test_negative_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="ttl"):
        RouteTable(MemoryStore(), ttl=-1)


def test_routes_returns_a_copy() -> None:
    store = MemoryStore()
    store.set(Route("f", Mode.SHADOW), actor="a")
    table = RouteTable(store, ttl=60)
    routes = table.routes()
    routes.clear()
    assert table.get("f") == Route("f", Mode.SHADOW)


def test_a_forked_child_refreshes_although_its_parent_was_refreshing() -> None:
    """The parent's lock is copied held when a parent thread was in ``store.all()`` at
    the fork: the child never refreshed again (a route change never reached it)."""
    now = [0.0]
    store = CountingStore()
    store.set(Route("f", Mode.MONOLITH), actor="t")
    table = RouteTable(store, 1.0, clock=lambda: now[0])
    assert table.get("f") == Route("f", Mode.MONOLITH)
    table._lock.acquire()  # a parent thread was refreshing when it forked
    table._pid = -1  # this process is the child
    store.set(Route("f", Mode.FUNCTION), actor="t")
    now[0] = 1.0
    assert table.get("f") == Route("f", Mode.FUNCTION)


def test_a_forked_child_loads_its_first_routes_although_its_parent_was_loading() -> None:
    import threading

    store = CountingStore()
    store.set(Route("f", Mode.FUNCTION), actor="t")
    table = RouteTable(store, 1.0)
    table._lock.acquire()  # a parent thread was loading the routes when it forked
    table._pid = -1  # this process is the child
    seen: list[Route | None] = []
    first = threading.Thread(target=lambda: seen.append(table.get("f")), daemon=True)
    first.start()
    first.join(2.0)
    assert seen == [Route("f", Mode.FUNCTION)]  # it waited for ever on the parent's lock
