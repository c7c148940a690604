"""Idempotency by event id for handlers: the same event's effect happens once.

A broker delivers *at least* once (acks_late, redelivery after a lost worker, two
outbox relays), so a handler must recognise an event it already handled. Each event id
goes through two states:

* ``busy`` - claimed by one worker, with a *lease*: if that worker dies mid-task the
  lease expires and the redelivered message can claim the event and run it;
* ``done`` - handled; the JSON result is kept (for ``done_ttl``) so a duplicate of a
  request/reply event answers with the same result without running again.

A failure *releases* the claim (only the claimant's, by token) so the retry can run.

Backends by URL: ``redis://`` (``SET NX PX`` for the claim, a Lua compare-and-delete
for the release), ``sqlite:///path`` (one table, ``BEGIN IMMEDIATE`` transactions),
``memory://`` (unit tests, one process).
"""

from __future__ import annotations

import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shims.sqlitefile import connect, prepare
from shims.urls import DEFAULT_KEY_PREFIX, check_redis_url, key_prefix, open_by_scheme

__all__ = ["Claim", "ClaimState", "DedupeStore", "open_dedupe"]

PREFIX = "strangler:dedupe:"


class ClaimState(StrEnum):
    CLAIMED = "claimed"  # the caller owns the event now and must complete or release it
    DONE = "done"  # handled before; ``result`` holds its JSON result
    BUSY = "busy"  # another worker holds an unexpired lease


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    token: str = ""
    result: str | None = None


class DedupeStore(ABC):
    url: str

    @abstractmethod
    def claim(self, event_id: str, lease: float) -> Claim:
        """Try to own ``event_id`` for ``lease`` seconds."""

    @abstractmethod
    def complete(self, event_id: str, token: str, result_json: str, ttl: float) -> None:
        """Mark ``event_id`` done with its JSON result, kept ``ttl`` seconds."""

    @abstractmethod
    def release(self, event_id: str, token: str) -> None:
        """Give up a claim (the attempt failed): a retry may claim it again."""

    def close(self) -> None:  # noqa: B027 - optional hook: only networked stores hold a connection
        """Release connections."""


class MemoryDedupe(DedupeStore):
    def __init__(self, url: str = "memory://", clock: Any = time.monotonic) -> None:
        self.url = url
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[str, str, float, str | None]] = {}

    def claim(self, event_id: str, lease: float) -> Claim:
        now = self._clock()
        with self._lock:
            row = self._rows.get(event_id)
            if row is not None and row[2] > now:
                state, token, _, result = row
                return (
                    Claim(ClaimState.DONE, result=result)
                    if state == "done"
                    else Claim(ClaimState.BUSY)
                )
            token = uuid.uuid4().hex
            self._rows[event_id] = ("busy", token, now + lease, None)
            return Claim(ClaimState.CLAIMED, token)

    def complete(self, event_id: str, token: str, result_json: str, ttl: float) -> None:
        with self._lock:
            self._rows[event_id] = ("done", token, self._clock() + ttl, result_json)

    def release(self, event_id: str, token: str) -> None:
        with self._lock:
            row = self._rows.get(event_id)
            if row is not None and row[0] == "busy" and row[1] == token:
                del self._rows[event_id]


class SqliteDedupe(DedupeStore):
    """One row per event id; claims in ``BEGIN IMMEDIATE`` so two workers never both win."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = prepare(url)
        with closing(connect(self.path)) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS strangler_dedupe (event_id TEXT PRIMARY KEY,"
                " state TEXT NOT NULL, token TEXT NOT NULL, until REAL NOT NULL, result TEXT)"
            )

    def claim(self, event_id: str, lease: float) -> Claim:
        now = time.time()
        db = connect(self.path)
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT state, until, result FROM strangler_dedupe WHERE event_id = ?",
                (event_id,),
            ).fetchone()
            if row is not None and row[1] > now:
                db.execute("COMMIT")
                if row[0] == "done":
                    return Claim(ClaimState.DONE, result=row[2])
                return Claim(ClaimState.BUSY)
            token = uuid.uuid4().hex
            db.execute(
                "INSERT OR REPLACE INTO strangler_dedupe VALUES (?, 'busy', ?, ?, NULL)",
                (event_id, token, now + lease),
            )
            db.execute("COMMIT")
            return Claim(ClaimState.CLAIMED, token)
        finally:
            db.close()

    def complete(self, event_id: str, token: str, result_json: str, ttl: float) -> None:
        with closing(connect(self.path)) as db:
            db.execute(
                "INSERT OR REPLACE INTO strangler_dedupe VALUES (?, 'done', ?, ?, ?)",
                (event_id, token, time.time() + ttl, result_json),
            )

    def release(self, event_id: str, token: str) -> None:
        with closing(connect(self.path)) as db:
            db.execute(
                "DELETE FROM strangler_dedupe WHERE event_id = ? AND state = 'busy' AND token = ?",
                (event_id, token),
            )


class RedisDedupe(DedupeStore):
    _RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
        "else return 0 end"
    )

    def __init__(self, url: str) -> None:
        import redis

        check_redis_url(url, kind="dedupe store", extra={"prefix"})
        self.url = url
        client_url, prefix = key_prefix(url)
        self._prefix = prefix + PREFIX.removeprefix(DEFAULT_KEY_PREFIX)
        self._redis = redis.Redis.from_url(client_url, socket_timeout=5, socket_connect_timeout=2)
        self._release = self._redis.register_script(self._RELEASE)

    def claim(self, event_id: str, lease: float) -> Claim:
        key = self._prefix + event_id
        token = "busy:" + uuid.uuid4().hex
        if self._redis.set(key, token, nx=True, px=max(1, int(lease * 1000))):
            return Claim(ClaimState.CLAIMED, token)
        value = self._redis.get(key)
        if value is None:  # expired between the two calls: try once more
            if self._redis.set(key, token, nx=True, px=max(1, int(lease * 1000))):
                return Claim(ClaimState.CLAIMED, token)
            value = self._redis.get(key) or b"busy:"
        text = value.decode() if isinstance(value, bytes) else str(value)
        if text.startswith("done:"):
            return Claim(ClaimState.DONE, result=text.removeprefix("done:"))
        return Claim(ClaimState.BUSY)

    def complete(self, event_id: str, token: str, result_json: str, ttl: float) -> None:
        self._redis.set(self._prefix + event_id, "done:" + result_json, px=max(1, int(ttl * 1000)))

    def release(self, event_id: str, token: str) -> None:
        self._release(keys=[self._prefix + event_id], args=[token])

    def close(self) -> None:
        self._redis.close()


def open_dedupe(url: str) -> DedupeStore:
    """The dedupe store ``url`` names (``redis://``, ``sqlite:///``, ``memory://``)."""
    openers: dict[str, Callable[[str], DedupeStore]] = {
        "redis": RedisDedupe, "rediss": RedisDedupe, "sqlite": SqliteDedupe,
        "memory": MemoryDedupe,
    }  # fmt: skip
    return open_by_scheme(
        url, openers, kind="dedupe store", expected="redis://, sqlite:///path or memory://"
    )
