"""The in-process route cache: the only thing the hot path touches.

``RouteTable.get`` is a monotonic-clock check and a dict lookup (well under a
microsecond). At most once per TTL, the first caller after expiry re-reads *all* routes
with one store call, so ``strangler route set`` reaches every process within the TTL
and the store sees one read per process per TTL, not one per call.

When the store does not answer, the last known routes stay in force (one warning per
outage, with the URL masked) and the next attempt waits one more TTL, so an outage
costs at most one bounded store call per TTL. A feature that was never known routes
to the monolith (``get`` returns ``None``, which ``decide`` maps to the monolith).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from time import monotonic

from shims.config import mask_url
from shims.routing import Route
from shims.stores.base import RouteStore, StoreUnavailable

__all__ = ["RouteTable"]

log = logging.getLogger("shims.table")


class RouteTable:
    """All routes of one store, cached for ``ttl`` seconds (``0``: read on every call)."""

    __slots__ = (
        "_clock", "_expires", "_failing", "_lock", "_pid", "_routes", "loaded", "store", "ttl",
    )  # fmt: skip

    def __init__(
        self, store: RouteStore, ttl: float = 1.0, *, clock: Callable[[], float] = monotonic
    ) -> None:
        """``clock`` is injectable so that TTL behaviour is tested without sleeping."""
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0 seconds, got {ttl}")
        self.store = store
        self.ttl = ttl
        self.loaded = False  # True once any read succeeded: routes are "known"
        self._routes: dict[str, Route] = {}
        self._expires = float("-inf")
        self._failing = False
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._clock = clock

    def get(self, feature: str) -> Route | None:
        """The cached route of ``feature`` (``None``: never set, or never reachable)."""
        if self._clock() >= self._expires:
            self._refresh()
        return self._routes.get(feature)

    def routes(self) -> dict[str, Route]:
        """A copy of every cached route (refreshed first if the TTL has passed)."""
        if self._clock() >= self._expires:
            self._refresh()
        return dict(self._routes)

    def invalidate(self) -> None:
        """Make the next ``get`` re-read the store (after a local ``set``, in tests)."""
        self._expires = float("-inf")

    def _refresh(self) -> None:
        # One thread refreshes; the others keep serving the routes they have rather
        # than queueing behind a store call. Before the first load there is nothing
        # to serve, so they wait for it.
        lock = self._here()
        if not lock.acquire(blocking=not self.loaded):
            return
        try:
            if self._clock() < self._expires:  # another thread just refreshed
                return
            self._load()
        finally:
            lock.release()

    def _here(self) -> threading.Lock:
        """This process's lock. A forked child (prefork, gunicorn) starts with one of its
        own: a parent thread may have been refreshing at fork time, and the child's copy of
        the held lock would never be released: the child would never refresh again (no
        route change would reach it) or, before its first load, wait for ever."""
        if self._pid != os.getpid():
            self._lock, self._pid = threading.Lock(), os.getpid()
        return self._lock

    def _load(self) -> None:
        try:
            routes = self.store.all()
        except Exception as exc:  # any outage: keep serving what we know
            self._expires = self._clock() + self.ttl
            if not self._failing:
                self._failing = True
                state = "keeping the last known routes" if self.loaded else "routing to monolith"
                # StoreUnavailable messages carry a masked URL; others may not: name only.
                why = str(exc) if isinstance(exc, StoreUnavailable) else type(exc).__name__
                log.warning(
                    "route store %s unreachable (%s); %s", mask_url(self.store.url), why, state
                )
            return
        self._routes = routes
        self.loaded = True
        self._expires = self._clock() + self.ttl
        if self._failing:
            self._failing = False
            log.warning("route store %s reachable again", mask_url(self.store.url))
