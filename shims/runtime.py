"""The process-wide runtime: settings, route store, route table and metrics, built once.

Built lazily on first use (not at import) so that importing ``shims`` in a monolith or
worker costs nothing and reads no configuration; after that, ``get_runtime()`` is a
global read. Tests and embedding code swap it with :func:`configure` and
:func:`reset_runtime`.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shims.config import Settings, load_settings
from shims.metrics import Metrics
from shims.stores import open_store
from shims.stores.base import RouteStore, StoreUnavailable
from shims.stores.lazy import LazyStore
from shims.table import RouteTable

__all__ = ["Runtime", "build_runtime", "configure", "get_runtime", "reset_runtime"]


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    store: RouteStore
    table: RouteTable
    metrics: Metrics

    def close(self) -> None:
        """Flush metrics and release the store."""
        self.metrics.close()
        self.store.close()


_runtime: Runtime | None = None
_lock = threading.Lock()
log = logging.getLogger("shims.runtime")


def build_runtime(
    settings: Settings, *, opener: Callable[[str], RouteStore] | None = None
) -> Runtime:
    """A runtime for ``settings``; the store is opened on first use, not here.

    Building never fails on the store: one that cannot be opened (down, not a database,
    a bad URL) raises ``StoreUnavailable`` when used and is tried again at most once per
    TTL, at least a second apart (``shims.stores.lazy``); the route table routes every
    feature it never read to the monolith. A build that raised would be retried, and
    raise, on every routed call, and the monolith body would never run.
    """
    if opener is None:
        opener = functools.partial(open_store, timeout=settings.route_store_timeout)
    store = LazyStore(settings.route_store_url, opener, retry=max(settings.route_ttl, 1.0))
    metrics = Metrics(store, settings.metrics_flush_interval)
    if settings.prometheus:
        metrics.enable_prometheus()
    return Runtime(settings, store, RouteTable(store, settings.route_ttl), metrics)


def get_runtime() -> Runtime:
    """The process's runtime, built from :func:`load_settings` on first call."""
    runtime = _runtime
    if runtime is not None:
        return runtime
    return _install(None)


def configure(**overrides: Any) -> Runtime:
    """Replace the runtime with one built from ``load_settings(overrides)``.

    E.g. ``configure(route_store_url="memory://", route_ttl=0)`` in a test.
    """
    return _install(overrides)


def reset_runtime() -> None:
    """Close and forget the runtime; the next :func:`get_runtime` builds a fresh one."""
    global _runtime
    with _lock:
        old, _runtime = _runtime, None
    if old is not None:
        old.close()


def _install(overrides: dict[str, Any] | None) -> Runtime:
    global _runtime
    with _lock:
        if overrides is None and _runtime is not None:  # lost a first-use race
            return _runtime
        # configure() passes its overrides (a dict): their errors are its caller's
        built = _first_use() if overrides is None else build_runtime(load_settings(overrides))
        old, _runtime = _runtime, built
        new = _runtime
    if old is not None:
        old.close()
    return new


def _first_use() -> Runtime:
    """The runtime a routed call builds from the process's settings.

    Settings that do not load (``STRANGLER_ROUTE_TTL=soon``, a bad pyproject value)
    must not take the monolith down: a runtime whose store never opens is installed,
    so that every feature routes to the monolith, and the reason is logged once at
    ERROR. A restart after fixing the settings builds the real one.
    """
    try:
        return build_runtime(load_settings())
    except ValueError as exc:
        reason = f"strangler settings are invalid ({exc})"
        log.error("%s: every feature routes to the monolith until they are fixed", reason)
        return build_runtime(Settings(), opener=functools.partial(_refuse, reason))


def _refuse(reason: str, url: str) -> RouteStore:
    raise StoreUnavailable(reason)
