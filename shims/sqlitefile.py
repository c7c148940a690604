"""The SQLite files of the handler-side stores: dedupe, dead letters, confirmations.

One place for how they are opened, so the three stores cannot drift apart: the folder is
created, connections are autocommit (each store runs its own ``BEGIN IMMEDIATE`` where
it needs one), wait up to 10 s for a lock, and use WAL so readers never block the
worker that writes.
"""

from __future__ import annotations

import sqlite3

from shims.urls import sqlite_path

__all__ = ["connect", "prepare"]


def prepare(url: str) -> str:
    """The path a ``sqlite:///...`` URL names, its folder created."""
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def connect(path: str) -> sqlite3.Connection:
    """A new autocommit connection in WAL mode; the caller closes it."""
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    return db
