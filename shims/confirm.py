"""Confirmations: the handler side tells the outbox relay that an event reached its end.

The outbox relay marks a row ``sent`` once the broker accepted the message, but an
accepted message can still vanish before a worker records it: kombu's Redis transport
pops a message with ``BRPOP`` and records it as unacknowledged in a second round trip,
so a broker that dies between the two loses it. To be at-least-once *end to end*, the
relay keeps a sent row open until the handler side confirms the event, and publishes it
again when no confirmation came (``shims.outbox``).

The handler base (``shims.handlers``) writes a confirmation for every event that asks
for one (the relay adds the ``stranglerconfirm`` attribute) once the event is
accounted for: ``done`` (handled, or a duplicate of a handled event) or ``dead``
(dead-lettered: an operator owns it now, so republishing would only fail again).

Why a record of its own rather than reading the handler's dedupe store: the dedupe
store forgets a dead-lettered event on purpose (its claim is released so that
``strangler dlq replay`` can run it again), and its encoding is the dedupe store's
business. A confirmation is a tiny write, made only for events that ask for one, to a
store that both sides already share: the handlers' dedupe store URL
(``STRANGLER_DEDUPE_URL``, see :func:`shims.handlers.dedupe_url`), in its own keys
(Redis) or table (SQLite).

Backends by URL: ``redis://`` (one key per event, ``SET PX``, read back with ``MGET``),
``sqlite:///path`` (one table, WAL), ``memory://`` (unit tests, one process).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import closing
from enum import StrEnum
from typing import Any

from shims.sqlitefile import connect, prepare
from shims.urls import DEFAULT_KEY_PREFIX, check_redis_url, key_prefix, open_by_scheme

__all__ = [
    "CONFIRM_ATTRIBUTE",
    "ConfirmationStore",
    "Outcome",
    "open_confirmations",
    "wants_confirmation",
]

CONFIRM_ATTRIBUTE = "stranglerconfirm"  # CloudEvents extension: lowercase letters only
PREFIX = "strangler:confirmed:"
READ_CHUNK = 500  # ids per MGET / SELECT ... IN: far below SQLite's variable limit


class Outcome(StrEnum):
    DONE = "done"  # the handler finished it (or had finished it before)
    DEAD = "dead"  # the handler dead-lettered it


def wants_confirmation(raw: Any) -> bool:
    """Whether a received message asks the handler side to confirm it."""
    return isinstance(raw, dict) and raw.get(CONFIRM_ATTRIBUTE) is True


class ConfirmationStore(ABC):
    url: str

    @abstractmethod
    def confirm(self, event_id: str, outcome: Outcome, ttl: float) -> None:
        """Record ``outcome`` for ``event_id``, kept ``ttl`` seconds (idempotent)."""

    @abstractmethod
    def outcomes(self, event_ids: Sequence[str]) -> dict[str, Outcome]:
        """The confirmed ones among ``event_ids``; an unknown id is simply absent."""

    def close(self) -> None:  # noqa: B027 - optional hook: only networked stores hold a connection
        """Release connections."""


class MemoryConfirmations(ConfirmationStore):
    def __init__(self, url: str = "memory://", clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[Outcome, float]] = {}

    def confirm(self, event_id: str, outcome: Outcome, ttl: float) -> None:
        with self._lock:
            self._rows[event_id] = (outcome, self._clock() + ttl)

    def outcomes(self, event_ids: Sequence[str]) -> dict[str, Outcome]:
        now = self._clock()
        with self._lock:
            found = {i: self._rows.get(i) for i in event_ids}
        return {i: row[0] for i, row in found.items() if row is not None and row[1] > now}


class SqliteConfirmations(ConfirmationStore):
    """One row per event id in the handlers' SQLite file (table ``strangler_confirmed``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = prepare(url)
        self._run(
            "CREATE TABLE IF NOT EXISTS strangler_confirmed"
            " (event_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, until REAL NOT NULL)"
        )

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with closing(connect(self.path)) as db:
            return db.execute(sql, params).fetchall()

    def confirm(self, event_id: str, outcome: Outcome, ttl: float) -> None:
        self._run(
            "INSERT OR REPLACE INTO strangler_confirmed VALUES (?, ?, ?)",
            (event_id, outcome.value, time.time() + ttl),
        )

    def outcomes(self, event_ids: Sequence[str]) -> dict[str, Outcome]:
        found: dict[str, Outcome] = {}
        now = time.time()
        for start in range(0, len(event_ids), READ_CHUNK):
            chunk = list(event_ids[start : start + READ_CHUNK])
            marks = ",".join("?" * len(chunk))  # placeholders only: the ids are parameters
            sql = f"SELECT event_id, outcome FROM strangler_confirmed WHERE until > ? AND event_id IN ({marks})"  # noqa: E501, S608
            rows = self._run(sql, (now, *chunk))
            found.update({str(i): Outcome(o) for i, o in rows})
        return found


class RedisConfirmations(ConfirmationStore):
    def __init__(self, url: str) -> None:
        import redis

        check_redis_url(url, kind="confirmation store", extra={"prefix"})
        self.url = url
        client_url, prefix = key_prefix(url)
        self._prefix = prefix + PREFIX.removeprefix(DEFAULT_KEY_PREFIX)
        self._redis = redis.Redis.from_url(client_url, socket_timeout=5, socket_connect_timeout=2)

    def confirm(self, event_id: str, outcome: Outcome, ttl: float) -> None:
        self._redis.set(self._prefix + event_id, outcome.value, px=max(1, int(ttl * 1000)))

    def outcomes(self, event_ids: Sequence[str]) -> dict[str, Outcome]:
        found: dict[str, Outcome] = {}
        for start in range(0, len(event_ids), READ_CHUNK):
            chunk = list(event_ids[start : start + READ_CHUNK])
            values = self._redis.mget([self._prefix + i for i in chunk])
            for event_id, value in zip(chunk, values, strict=True):
                if value is not None:
                    text = value.decode() if isinstance(value, bytes) else str(value)
                    found[event_id] = Outcome(text)
        return found

    def close(self) -> None:
        self._redis.close()


def open_confirmations(url: str) -> ConfirmationStore:
    """The confirmation store ``url`` names (``redis://``, ``sqlite:///``, ``memory://``)."""
    openers: dict[str, Callable[[str], ConfirmationStore]] = {
        "redis": RedisConfirmations, "rediss": RedisConfirmations,
        "sqlite": SqliteConfirmations, "memory": MemoryConfirmations,
    }  # fmt: skip
    return open_by_scheme(
        url, openers, kind="confirmation store", expected="redis://, sqlite:///path or memory://"
    )
