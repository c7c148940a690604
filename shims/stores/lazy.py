"""A route store opened on first use, and opened again later if that fails.

Why: the runtime is built on a monolith's first routed call. If opening the store raised
there (a SQLite path that is a folder or not a database, a server down, a typo in the
URL), every routed call would raise and the monolith body would never run, because the
build would fail, and be tried again, on every call. A :class:`LazyStore` never fails to
build: each call opens the real store if it is not open yet, at most once per
``retry`` seconds, and raises :class:`StoreUnavailable` (URL masked) while it cannot.
The route table treats that as any outage: routes never known route to the monolith,
with one warning per outage, and the next refresh tries again.

A configuration error (an unknown scheme, ``redis://h/notadb``, a missing ``redis``
package) is logged at ERROR level once, then handled the same way: a strangler setting
must not take a running monolith down. CLI commands open stores with ``open_store`` and
keep reporting it as exit 2.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from time import monotonic

from shims.config import mask_url
from shims.routing import Route
from shims.stats import PathStats
from shims.stores.base import (
    MISMATCH_SAMPLES,
    Change,
    MismatchSample,
    RouteStore,
    StoreConfigError,
    StoreUnavailable,
)

__all__ = ["LazyStore"]

log = logging.getLogger("shims.stores")


class LazyStore(RouteStore):
    """Opens ``opener(url)`` on first use; after a failure, tries again ``retry`` s later."""

    def __init__(
        self,
        url: str,
        opener: Callable[[str], RouteStore],
        *,
        retry: float = 1.0,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        """``clock`` is injectable so that the retry interval is tested without sleeping."""
        self.url = url
        self._opener = opener
        self._retry = retry
        self._clock = clock
        self._store: RouteStore | None = None
        self._error: str | None = None  # the last failure's message, raised until retry
        self._next_try = float("-inf")
        self._config_logged = False
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def get(self, feature: str) -> Route | None:
        return self._opened().get(feature)

    def all(self) -> dict[str, Route]:
        return self._opened().all()

    def set(self, route: Route, *, actor: str, reason: str = "") -> Change:
        return self._opened().set(route, actor=actor, reason=reason)

    def history(self, feature: str, limit: int = 50) -> list[Change]:
        return self._opened().history(feature, limit)

    def add_metrics(self, batch: Iterable[PathStats]) -> None:
        self._opened().add_metrics(batch)

    def read_metrics(self) -> dict[tuple[str, str], PathStats]:
        return self._opened().read_metrics()

    def add_mismatches(self, samples: Iterable[MismatchSample]) -> None:
        self._opened().add_mismatches(samples)

    def read_mismatches(self, feature: str, limit: int = MISMATCH_SAMPLES) -> list[MismatchSample]:
        return self._opened().read_mismatches(feature, limit)

    def close(self) -> None:
        with self._here():
            store, self._store = self._store, None
        if store is not None:
            store.close()

    def _opened(self) -> RouteStore:
        """The real store, opened now if need be; ``StoreUnavailable`` if it cannot be."""
        store = self._store
        if store is not None:
            return store
        with self._here():
            if self._store is not None:
                return self._store
            if self._error is not None and self._clock() < self._next_try:
                # Failed recently: no new attempt until the interval has passed (a fresh
                # exception each time, so no traceback grows across calls).
                raise StoreUnavailable(self._error)
            self._next_try = self._clock() + self._retry
            try:
                self._store = self._opener(self.url)
            except StoreUnavailable as exc:  # its message names the masked URL
                self._error = str(exc)
                raise
            except ValueError as exc:  # StoreConfigError, or a URL the client library refused
                self._error = self._misconfigured(exc)
                raise StoreUnavailable(self._error) from exc
            except Exception as exc:  # anything else: an outage, named by type only
                self._error = f"route store {mask_url(self.url)}: {type(exc).__name__}"
                raise StoreUnavailable(self._error) from exc
            self._error = None
            return self._store

    def _here(self) -> threading.Lock:
        """This process's lock. A forked child (prefork, gunicorn) starts with one of its
        own: the parent may have held the lock at fork time, opening the store, and the
        child's copy would then never be released (``close`` included)."""
        if self._pid != os.getpid():
            self._lock, self._pid = threading.Lock(), os.getpid()
        return self._lock

    def _misconfigured(self, exc: ValueError) -> str:
        """Log a configuration error loudly, once; the route table routes to the monolith.

        Only a ``StoreConfigError`` message is known to mask the URL's secrets; any other
        ``ValueError`` is named by its type.
        """
        why = str(exc) if isinstance(exc, StoreConfigError) else type(exc).__name__
        if not self._config_logged:
            self._config_logged = True
            log.error(
                "route store %s is misconfigured (%s); every feature routes to the "
                "monolith until the setting is fixed",
                mask_url(self.url),
                why,
            )
        return f"route store {mask_url(self.url)}: misconfigured: {why}"
