"""``sqlite:///path`` — the embedded default: one file, no server (``.strangler/routes.db``).

``sqlite:///relative/path.db`` is relative to the working directory,
``sqlite:////absolute/path.db`` is absolute (SQLAlchemy's convention). The database is
in WAL mode so the running monolith processes keep reading while ``strangler route set``
writes, and every write is one ``BEGIN IMMEDIATE`` transaction: the route and its audit
entry are stored together or not at all.

One connection per store object, guarded by a lock (routes are read once per TTL, so
there is nothing to gain from a connection per thread), and reopened after ``fork()``
because a SQLite connection must never cross a fork (prefork workers, gunicorn).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from shims.config import mask_url
from shims.routing import Mode, Route
from shims.stats import PathStats
from shims.stores.base import (
    MISMATCH_SAMPLES,
    Change,
    MismatchSample,
    RouteStore,
    StoreConfigError,
    StoreUnavailable,
    route_from_dict,
    route_to_dict,
    utcnow,
)
from shims.urls import sqlite_path as _sqlite_path

__all__ = ["SqliteStore", "sqlite_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS routes (
    feature TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    percent INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS route_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    feature TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    before TEXT,
    after TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS route_changes_feature ON route_changes (feature, id);
CREATE TABLE IF NOT EXISTS metric_outcomes (
    feature TEXT NOT NULL,
    path TEXT NOT NULL,
    outcome TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (feature, path, outcome)
);
CREATE TABLE IF NOT EXISTS metric_latency (
    feature TEXT NOT NULL,
    path TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (feature, path, bucket)
);
CREATE TABLE IF NOT EXISTS mismatch_samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    feature TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at TEXT NOT NULL,
    ts REAL NOT NULL,
    field TEXT NOT NULL,
    monolith TEXT NOT NULL,
    function TEXT NOT NULL,
    process TEXT NOT NULL,
    UNIQUE (feature, event_id, field, process, at)
);
CREATE INDEX IF NOT EXISTS mismatch_samples_feature ON mismatch_samples (feature, ts, id);
"""


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///...`` URL names; ``StoreConfigError`` if it names none."""
    return _sqlite_path(url, error=StoreConfigError)


class SqliteStore(RouteStore):
    def __init__(self, url: str, *, timeout: float = 0.5) -> None:
        self.url = url
        self.path = sqlite_path(url)
        # Writers wait for each other longer than readers wait for a server: a CLI
        # write racing a metrics flush should queue, not fail.
        self._busy_ms = int(max(timeout, 5.0) * 1000)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        with self._locked() as conn:
            conn.executescript(_SCHEMA)

    # ------------------------------------------------------------ routes

    def get(self, feature: str) -> Route | None:
        with self._locked() as conn:
            row = conn.execute(
                "SELECT mode, percent FROM routes WHERE feature = ?", (feature,)
            ).fetchone()
        return None if row is None else Route(feature, Mode(row[0]), int(row[1]))

    def all(self) -> dict[str, Route]:
        with self._locked() as conn:
            rows = conn.execute("SELECT feature, mode, percent FROM routes").fetchall()
        return {f: Route(f, Mode(m), int(p)) for f, m, p in rows}

    def set(self, route: Route, *, actor: str, reason: str = "") -> Change:
        with self._locked() as conn, _immediate(conn):
            row = conn.execute(
                "SELECT mode, percent FROM routes WHERE feature = ?", (route.feature,)
            ).fetchone()
            before = None if row is None else Route(route.feature, Mode(row[0]), int(row[1]))
            change = Change(route.feature, actor, utcnow(), before, route, reason)
            conn.execute(
                "INSERT INTO routes (feature, mode, percent, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (feature) DO UPDATE SET mode = excluded.mode, "
                "percent = excluded.percent, updated_at = excluded.updated_at",
                (route.feature, route.mode.value, route.percent, change.at.isoformat()),
            )
            conn.execute(
                "INSERT INTO route_changes (feature, actor, at, before, after, reason) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    route.feature,
                    actor,
                    change.at.isoformat(),
                    None if before is None else json.dumps(route_to_dict(before)),
                    json.dumps(route_to_dict(route)),
                    reason,
                ),
            )
        return change

    def history(self, feature: str, limit: int = 50) -> list[Change]:
        with self._locked() as conn:
            rows = conn.execute(
                "SELECT actor, at, before, after, reason FROM route_changes "
                "WHERE feature = ? ORDER BY id DESC LIMIT ?",
                (feature, max(0, limit)),
            ).fetchall()
        return [
            Change(
                feature,
                actor,
                datetime.fromisoformat(at),
                None if before is None else route_from_dict(feature, json.loads(before)),
                route_from_dict(feature, json.loads(after)),
                reason,
            )
            for actor, at, before, after, reason in rows
        ]

    # ------------------------------------------------------------ metrics

    def add_metrics(self, batch: Iterable[PathStats]) -> None:
        outcomes = []
        latency = []
        for s in batch:
            outcomes += [(s.feature, s.path, o, n) for o, n in s.outcomes.items() if n]
            latency += [(s.feature, s.path, b, n) for b, n in s.latency.items() if n]
        if not outcomes and not latency:
            return
        with self._locked() as conn, _immediate(conn):
            conn.executemany(
                "INSERT INTO metric_outcomes VALUES (?, ?, ?, ?) ON CONFLICT "
                "(feature, path, outcome) DO UPDATE SET count = count + excluded.count",
                outcomes,
            )
            conn.executemany(
                "INSERT INTO metric_latency VALUES (?, ?, ?, ?) ON CONFLICT "
                "(feature, path, bucket) DO UPDATE SET count = count + excluded.count",
                latency,
            )

    def read_metrics(self) -> dict[tuple[str, str], PathStats]:
        with self._locked() as conn:
            outcome_rows = conn.execute("SELECT * FROM metric_outcomes").fetchall()
            latency_rows = conn.execute("SELECT * FROM metric_latency").fetchall()
        outcomes: dict[tuple[str, str], dict[str, int]] = {}
        latency: dict[tuple[str, str], dict[int, int]] = {}
        for feature, path, outcome, count in outcome_rows:
            outcomes.setdefault((feature, path), {})[outcome] = int(count)
        for feature, path, index, count in latency_rows:
            latency.setdefault((feature, path), {})[int(index)] = int(count)
        return {
            key: PathStats(key[0], key[1], outcomes.get(key, {}), latency.get(key, {}))
            for key in sorted(outcomes.keys() | latency.keys())
        }

    # ------------------------------------------------------------ mismatch samples

    def add_mismatches(self, samples: Iterable[MismatchSample]) -> None:
        rows = [_sample_row(s) for s in samples]
        if not rows:
            return
        with self._locked() as conn, _immediate(conn):
            conn.executemany(
                "INSERT OR IGNORE INTO mismatch_samples (feature, event_id, at, ts, field, "
                "monolith, function, process) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "DELETE FROM mismatch_samples WHERE feature = ? AND id NOT IN ("
                "SELECT id FROM mismatch_samples WHERE feature = ? "
                "ORDER BY ts DESC, id DESC LIMIT ?)",
                [(f, f, MISMATCH_SAMPLES) for f in sorted({str(row[0]) for row in rows})],
            )

    def read_mismatches(self, feature: str, limit: int = MISMATCH_SAMPLES) -> list[MismatchSample]:
        with self._locked() as conn:
            rows = conn.execute(
                "SELECT event_id, at, field, monolith, function, process FROM mismatch_samples "
                "WHERE feature = ? ORDER BY ts DESC, id DESC LIMIT ?",
                (feature, max(0, limit)),
            ).fetchall()
        return [
            MismatchSample(feature, event_id, datetime.fromisoformat(at), field, mono, fn, proc)
            for event_id, at, field, mono, fn, proc in rows
        ]

    # ------------------------------------------------------------ connection

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        if self._pid and self._pid != os.getpid():
            # A forked child: the parent's lock may have been held at fork time and its
            # connection must not be used here; start afresh (the child is one thread).
            self._lock, self._conn, self._pid = threading.Lock(), None, 0
        with self._lock:
            try:
                yield self._connection()
            except (sqlite3.DatabaseError, OSError) as exc:
                raise StoreUnavailable(f"route store {mask_url(self.url)}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=self._busy_ms / 1000,
            )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._conn, self._pid = conn, os.getpid()
        return self._conn


def _sample_row(s: MismatchSample) -> tuple[str | float, ...]:
    at = s.at.isoformat()
    return (s.feature, s.event_id, at, s.at.timestamp(), s.field, s.monolith, s.function, s.process)


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken up front so two writers queue instead of deadlocking."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
