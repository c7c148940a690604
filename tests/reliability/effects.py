"""The effects table the reliability worker writes: one row per event id, with a count.

Shared by the worker (``tests.reliability.app``) and the tests. An effect applied twice
shows up as ``count == 2`` for its event id, so "effect once" is a query, not a guess.
SQLite (WAL) because it survives the worker being SIGKILLed and is read by the test
process while the worker writes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS effects
    (event_id TEXT PRIMARY KEY, n INTEGER, count INTEGER, pid INTEGER);
CREATE TABLE IF NOT EXISTS starts (event_id TEXT, pid INTEGER, at REAL);
CREATE TABLE IF NOT EXISTS attempts (event_id TEXT, at REAL);
"""


def connect(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    return conn


def apply(path: str | Path, event_id: str, n: int) -> None:
    """The effect: count one execution of ``event_id`` (one transaction)."""
    with _closing(connect(path)) as conn:
        conn.execute(
            "INSERT INTO effects VALUES (?, ?, 1, ?) "
            "ON CONFLICT(event_id) DO UPDATE SET count = count + 1",
            (event_id, n, os.getpid()),
        )


def note(path: str | Path, table: str, event_id: str) -> None:
    """Record that a delivery started (``starts``) or an attempt ran (``attempts``)."""
    with _closing(connect(path)) as conn:
        if table == "starts":
            conn.execute(
                "INSERT INTO starts VALUES (?, ?, ?)", (event_id, os.getpid(), time.time())
            )
        else:
            conn.execute("INSERT INTO attempts VALUES (?, ?)", (event_id, time.time()))


def counts(path: str | Path) -> dict[str, int]:
    """Event id -> how many times its effect was applied."""
    with _closing(connect(path)) as conn:
        return dict(conn.execute("SELECT event_id, count FROM effects").fetchall())


def rows(path: str | Path, table: str) -> list[tuple[object, ...]]:
    assert table in {"starts", "attempts"}
    with _closing(connect(path)) as conn:
        return list(conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall())


def wait_for(path: str | Path, expected: set[str], timeout: float) -> dict[str, int]:
    """Poll until every id in ``expected`` has an effect, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    seen = counts(path)
    while not expected <= seen.keys() and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = counts(path)
    return seen


class _closing:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()
