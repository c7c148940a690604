"""The dead-letter store: events a handler gave up on, kept for an operator to replay.

An entry holds the event exactly as received, the task it was for, why it was
dead-lettered (``invalid: ...``, ``max retries exceeded``, ``error``), how many
attempts were made, the last error and when. ``strangler dlq list|show|replay|purge``
reads it; replay republishes the same event (same id: the handler's dedupe still
protects against a double effect) and removes the entry.

Backends by URL, like the route stores: ``sqlite:///path`` (default
``.strangler/handlers.db``), ``redis://host:port/db``, ``memory://`` (unit tests).
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shims.sqlitefile import connect, prepare
from shims.urls import DEFAULT_KEY_PREFIX, check_redis_url, key_prefix, open_by_scheme

__all__ = ["DeadLetter", "DeadLetterStore", "open_dead_letters", "replay"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    task: str
    event: dict[str, Any]
    reason: str
    attempts: int
    last_error: str
    at: float  # unix time

    @property
    def event_id(self) -> str:
        return str(self.event.get("id", "")) if isinstance(self.event, dict) else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task": self.task,
            "event_id": self.event_id,
            "reason": self.reason,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "at": datetime.fromtimestamp(self.at, UTC).isoformat(),
            "event": self.event,
        }


class DeadLetterStore(ABC):
    url: str

    @abstractmethod
    def add(self, task: str, event: Any, reason: str, attempts: int, last_error: str) -> DeadLetter:
        """Append an entry; returns it with its id."""

    @abstractmethod
    def list(self, limit: int = 100) -> list[DeadLetter]:
        """Entries, oldest first, at most ``limit``."""

    @abstractmethod
    def get(self, entry_id: int) -> DeadLetter | None: ...

    @abstractmethod
    def remove(self, entry_id: int) -> bool: ...

    @abstractmethod
    def purge(self) -> int:
        """Delete every entry; returns how many."""

    def close(self) -> None:  # noqa: B027 - optional hook: only networked stores hold a connection
        """Release connections."""


def _event_dict(event: Any) -> dict[str, Any]:
    return event if isinstance(event, dict) else {"raw": repr(event)[:2000]}


class MemoryDeadLetters(DeadLetterStore):
    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._lock = threading.Lock()
        self._items: dict[int, DeadLetter] = {}
        self._next = 1

    def add(self, task: str, event: Any, reason: str, attempts: int, last_error: str) -> DeadLetter:
        with self._lock:
            item = DeadLetter(
                self._next, task, _event_dict(event), reason, attempts, last_error, time.time()
            )
            self._items[item.id] = item
            self._next += 1
        return item

    def list(self, limit: int = 100) -> list[DeadLetter]:
        return [self._items[k] for k in sorted(self._items)][:limit]

    def get(self, entry_id: int) -> DeadLetter | None:
        return self._items.get(entry_id)

    def remove(self, entry_id: int) -> bool:
        with self._lock:
            return self._items.pop(entry_id, None) is not None

    def purge(self) -> int:
        with self._lock:
            count, self._items = len(self._items), {}
        return count


class SqliteDeadLetters(DeadLetterStore):
    _COLUMNS = "id, task, event, reason, attempts, last_error, at"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = prepare(url)
        with closing(connect(self.path)) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS strangler_dead_letters (id INTEGER PRIMARY KEY"
                " AUTOINCREMENT, task TEXT NOT NULL, event TEXT NOT NULL, reason TEXT NOT NULL,"
                " attempts INTEGER NOT NULL, last_error TEXT NOT NULL, at REAL NOT NULL)"
            )

    def add(self, task: str, event: Any, reason: str, attempts: int, last_error: str) -> DeadLetter:
        payload = _event_dict(event)
        now = time.time()
        with closing(connect(self.path)) as db:
            cursor = db.execute(
                "INSERT INTO strangler_dead_letters (task, event, reason, attempts, last_error,"
                " at) VALUES (?, ?, ?, ?, ?, ?)",
                (task, json.dumps(payload), reason, attempts, last_error, now),
            )
            entry_id = int(cursor.lastrowid or 0)
        return DeadLetter(entry_id, task, payload, reason, attempts, last_error, now)

    def list(self, limit: int = 100) -> list[DeadLetter]:
        with closing(connect(self.path)) as db:
            rows = db.execute(
                f"SELECT {self._COLUMNS} FROM strangler_dead_letters ORDER BY id LIMIT ?",  # noqa: S608
                (limit,),
            ).fetchall()
        return [_row(r) for r in rows]

    def get(self, entry_id: int) -> DeadLetter | None:
        with closing(connect(self.path)) as db:
            row = db.execute(
                f"SELECT {self._COLUMNS} FROM strangler_dead_letters WHERE id = ?",  # noqa: S608
                (entry_id,),
            ).fetchone()
        return None if row is None else _row(row)

    def remove(self, entry_id: int) -> bool:
        with closing(connect(self.path)) as db:
            cursor = db.execute("DELETE FROM strangler_dead_letters WHERE id = ?", (entry_id,))
            return cursor.rowcount > 0

    def purge(self) -> int:
        with closing(connect(self.path)) as db:
            return int(db.execute("DELETE FROM strangler_dead_letters").rowcount)


def _row(row: tuple[Any, ...]) -> DeadLetter:
    return DeadLetter(
        int(row[0]), row[1], json.loads(row[2]), row[3], int(row[4]), row[5], float(row[6])
    )


class RedisDeadLetters(DeadLetterStore):
    """A hash of id -> JSON entry plus a counter for ids (ids never reused)."""

    SEQ = "strangler:dlq:seq"
    ENTRIES = "strangler:dlq:entries"

    def __init__(self, url: str) -> None:
        import redis

        check_redis_url(url, kind="dead-letter store", extra={"prefix"})
        self.url = url
        client_url, prefix = key_prefix(url)
        self.SEQ = prefix + self.SEQ.removeprefix(DEFAULT_KEY_PREFIX)
        self.ENTRIES = prefix + self.ENTRIES.removeprefix(DEFAULT_KEY_PREFIX)
        self._redis = redis.Redis.from_url(client_url, socket_timeout=5, socket_connect_timeout=2)

    def add(self, task: str, event: Any, reason: str, attempts: int, last_error: str) -> DeadLetter:
        entry_id = int(self._redis.incr(self.SEQ))
        item = DeadLetter(
            entry_id, task, _event_dict(event), reason, attempts, last_error, time.time()
        )
        self._redis.hset(self.ENTRIES, str(entry_id), json.dumps(_to_row(item)))
        return item

    def list(self, limit: int = 100) -> list[DeadLetter]:
        raw = self._redis.hgetall(self.ENTRIES)
        items = sorted((_from_row(json.loads(v)) for v in raw.values()), key=lambda d: d.id)
        return items[:limit]

    def get(self, entry_id: int) -> DeadLetter | None:
        raw = self._redis.hget(self.ENTRIES, str(entry_id))
        return None if raw is None else _from_row(json.loads(raw))

    def remove(self, entry_id: int) -> bool:
        return bool(self._redis.hdel(self.ENTRIES, str(entry_id)))

    def purge(self) -> int:
        count = int(self._redis.hlen(self.ENTRIES))
        self._redis.delete(self.ENTRIES)
        return count

    def close(self) -> None:
        self._redis.close()


def _to_row(item: DeadLetter) -> dict[str, Any]:
    return {
        "id": item.id,
        "task": item.task,
        "event": item.event,
        "reason": item.reason,
        "attempts": item.attempts,
        "last_error": item.last_error,
        "at": item.at,
    }


def _from_row(row: dict[str, Any]) -> DeadLetter:
    return DeadLetter(
        int(row["id"]),
        str(row["task"]),
        row["event"],
        str(row["reason"]),
        int(row["attempts"]),
        str(row["last_error"]),
        float(row["at"]),
    )


def open_dead_letters(url: str) -> DeadLetterStore:
    """The dead-letter store ``url`` names (``redis://``, ``sqlite:///``, ``memory://``)."""
    openers: dict[str, Callable[[str], DeadLetterStore]] = {
        "redis": RedisDeadLetters, "rediss": RedisDeadLetters, "sqlite": SqliteDeadLetters,
        "memory": MemoryDeadLetters,
    }  # fmt: skip
    return open_by_scheme(
        url, openers, kind="dead-letter store", expected="redis://, sqlite:///path or memory://"
    )


def replay(
    store: DeadLetterStore, entry_id: int, publish: Callable[[str, dict[str, Any]], Any]
) -> DeadLetter | None:
    """Republish entry ``entry_id``'s event (same id) to its task, then remove the entry.

    Returns the entry, or ``None`` if there is no such entry. The entry is removed only
    after the publish succeeded, so a broker outage during replay loses nothing.
    """
    entry = store.get(entry_id)
    if entry is None:
        return None
    publish(entry.task, entry.event)
    store.remove(entry_id)
    return entry
