"""Route stores: one interface, one module per backend, picked by URL scheme.

Like kombu's transports: ``open_store("sqlite:///.strangler/routes.db")``,
``open_store("redis://127.0.0.1:6379/0")``, ``open_store("memory://")``. Backends are
imported on first use, so a monolith on SQLite never imports ``redis``.
"""

from __future__ import annotations

import functools
import importlib

from shims.stores.base import (
    MISMATCH_SAMPLES,
    Change,
    MismatchSample,
    RouteStore,
    StoreConfigError,
    StoreUnavailable,
    validate_route,
)
from shims.urls import open_by_scheme

__all__ = [
    "BACKENDS",
    "MISMATCH_SAMPLES",
    "Change",
    "MismatchSample",
    "RouteStore",
    "StoreConfigError",
    "StoreUnavailable",
    "open_store",
    "validate_route",
]

# scheme -> "module:class"
BACKENDS: dict[str, str] = {
    "memory": "shims.stores.memory:MemoryStore",
    "sqlite": "shims.stores.sqlite:SqliteStore",
    "redis": "shims.stores.redis:RedisStore",
    "rediss": "shims.stores.redis:RedisStore",
}


def open_store(url: str, *, timeout: float = 0.5) -> RouteStore:
    """Open the store ``url`` names; ``StoreConfigError`` (a ``ValueError``) if it can't.

    ``timeout`` bounds how long a networked store may block one call, so an outage
    costs the refreshing request at most that long (see ``shims.table``).
    """
    return open_by_scheme(
        url,
        {scheme: functools.partial(_open, scheme, timeout=timeout) for scheme in BACKENDS},
        kind="route store",
        expected="memory://, sqlite:///path/to/routes.db or redis://host:port/db",
        error=StoreConfigError,
    )


def _open(scheme: str, url: str, *, timeout: float) -> RouteStore:
    module_name, _, class_name = BACKENDS[scheme].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    store: RouteStore = cls(url) if scheme == "memory" else cls(url, timeout=timeout)
    return store
