"""Dedupe and dead-letter stores: one contract, run against memory and SQLite.

The Redis backends run the same contract against the real server (this file's own
database, ``unit.handler_stores`` in tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from shims.deadletter import DeadLetterStore, open_dead_letters, replay
from shims.dedupe import ClaimState, DedupeStore, open_dedupe


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    redis_db: Callable[[str], str] = request.getfixturevalue("redis_db")
    return redis_db("unit.handler_stores")


@pytest.fixture
def dedupe(state_url: str) -> Iterator[DedupeStore]:
    store = open_dedupe(state_url)
    yield store
    store.close()


@pytest.fixture
def dead(state_url: str) -> Iterator[DeadLetterStore]:
    store = open_dead_letters(state_url)
    yield store
    store.close()


def unique() -> str:
    return f"ev-{time.time_ns()}"


def test_first_claim_wins_second_is_busy(dedupe: DedupeStore) -> None:
    event = unique()
    first = dedupe.claim(event, lease=30)
    assert first.state is ClaimState.CLAIMED
    assert dedupe.claim(event, lease=30).state is ClaimState.BUSY


def test_done_keeps_the_result(dedupe: DedupeStore) -> None:
    event = unique()
    claim = dedupe.claim(event, lease=30)
    dedupe.complete(event, claim.token, '{"sum": 3}', ttl=60)
    again = dedupe.claim(event, lease=30)
    assert again.state is ClaimState.DONE
    assert again.result == '{"sum": 3}'


def test_release_lets_a_retry_claim(dedupe: DedupeStore) -> None:
    event = unique()
    claim = dedupe.claim(event, lease=30)
    dedupe.release(event, "not-the-owner")
    assert dedupe.claim(event, lease=30).state is ClaimState.BUSY
    dedupe.release(event, claim.token)
    assert dedupe.claim(event, lease=30).state is ClaimState.CLAIMED


def test_an_expired_lease_can_be_taken_over(dedupe: DedupeStore) -> None:
    event = unique()
    dead_worker = dedupe.claim(event, lease=0.05)
    time.sleep(0.1)
    taken = dedupe.claim(event, lease=30)
    assert taken.state is ClaimState.CLAIMED
    dedupe.release(event, dead_worker.token)  # the late release of the dead claim is ignored
    assert dedupe.claim(event, lease=30).state is ClaimState.BUSY


def test_dead_letters_add_list_get_remove_purge(dead: DeadLetterStore) -> None:
    first = dead.add("t.a", {"id": "e1", "data": {}}, "error", 1, "ValueError: x")
    second = dead.add("t.b", ["not", "an", "event"], "invalid: not an event", 0, "")
    assert second.id > first.id
    assert [e.id for e in dead.list()] == [first.id, second.id]
    got = dead.get(first.id)
    assert got is not None
    assert (got.task, got.event_id, got.reason, got.attempts) == ("t.a", "e1", "error", 1)
    assert got.last_error == "ValueError: x"
    assert dead.get(second.id).event == {"raw": "['not', 'an', 'event']"}  # type: ignore[union-attr]
    assert dead.remove(first.id)
    assert not dead.remove(first.id)
    assert dead.purge() == 1
    assert dead.list() == []


def test_replay_removes_only_after_a_successful_publish(dead: DeadLetterStore) -> None:
    entry = dead.add("t.a", {"id": "e1"}, "error", 1, "boom")

    def broken(task: str, event: dict[str, object]) -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        replay(dead, entry.id, broken)
    assert dead.get(entry.id) is not None
    sent: list[tuple[str, object]] = []
    assert replay(dead, entry.id, lambda t, e: sent.append((t, e))) == entry
    assert sent == [("t.a", {"id": "e1"})]
    assert dead.get(entry.id) is None
    assert replay(dead, entry.id, broken) is None


def test_unknown_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown dedupe store URL"):
        open_dedupe("mongodb://x")
    with pytest.raises(ValueError, match="unknown dead-letter store URL"):
        open_dead_letters("ftp://x")


def test_errors_never_show_a_password() -> None:
    for opener in (open_dedupe, open_dead_letters):
        with pytest.raises(ValueError) as info:
            opener("mongodb://user:hunter2@db:27017/x")
        assert "hunter2" not in str(info.value)
        assert "mongodb://user:****@db:27017/x" in str(info.value)


@pytest.mark.redis
def test_redis_state_stores_keep_their_keys_under_the_urls_prefix(
    redis_db: Callable[[str], str],
) -> None:
    """Two projects sharing one Redis database, each with its own ``?prefix=`` (which
    the state stores borrow from the route store's URL): neither lists, replays or
    dedupes the other's events. The default prefix keeps the keys of earlier releases."""
    import redis

    from shims.confirm import Outcome, open_confirmations

    base = redis_db("unit.handler_stores")
    a, b = f"{base}?prefix=shop-a:", f"{base}?prefix=shop-b:"
    with closing(open_dead_letters(a)) as dead_a, closing(open_dead_letters(b)) as dead_b:
        dead_a.add("t.a", {"id": "e1", "data": {}}, "boom", 1, "ValueError")
        assert [d.task for d in dead_a.list()] == ["t.a"]
        assert dead_b.list() == []
    dedupes = [open_dedupe(url) for url in (a, b, base)]
    for dedupe in dedupes:
        assert dedupe.claim("e1", 30).state is ClaimState.CLAIMED  # not another's event
        dedupe.close()
    with closing(open_confirmations(a)) as confirm_a, closing(open_confirmations(b)) as confirm_b:
        confirm_a.confirm("e1", Outcome.DONE, 30)
        assert confirm_a.outcomes(["e1"]) == {"e1": Outcome.DONE}
        assert confirm_b.outcomes(["e1"]) == {}
    keys = {k.decode() for k in redis.Redis.from_url(base).keys("*")}
    assert {"shop-a:dlq:entries", "shop-a:dedupe:e1", "shop-a:confirmed:e1"} <= keys
    assert {"shop-b:dedupe:e1", "strangler:dedupe:e1"} <= keys
