"""The process-wide runtime and the routing-key contextvar."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from shims.context import current_key, use_key
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime


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
