"""``memory://`` — an in-process store for unit tests and single-process demos.

``memory://`` opens a fresh, private store; ``memory://NAME`` is shared by every open
of the same name in this process (like kombu's memory transport), which lets a test
hand the CLI and a runtime the same store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

from shims.routing import Route
from shims.stats import PathStats, merge_all
from shims.stores.base import MISMATCH_SAMPLES, Change, MismatchSample, RouteStore, utcnow

__all__ = ["MemoryStore"]


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.routes: dict[str, Route] = {}
        self.changes: dict[str, list[Change]] = {}
        self.metrics: dict[tuple[str, str], PathStats] = {}
        self.mismatches: dict[str, list[MismatchSample]] = {}  # oldest first


_NAMED: dict[str, _State] = {}
_NAMED_LOCK = threading.Lock()


class MemoryStore(RouteStore):
    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        name = urlsplit(url).netloc
        if not name:
            self._state = _State()
            return
        with _NAMED_LOCK:
            self._state = _NAMED.setdefault(name, _State())

    def get(self, feature: str) -> Route | None:
        return self._state.routes.get(feature)

    def all(self) -> dict[str, Route]:
        with self._state.lock:
            return dict(self._state.routes)

    def set(self, route: Route, *, actor: str, reason: str = "") -> Change:
        state = self._state
        with state.lock:
            change = Change(
                route.feature, actor, utcnow(), state.routes.get(route.feature), route, reason
            )
            state.routes[route.feature] = route
            state.changes.setdefault(route.feature, []).append(change)
        return change

    def history(self, feature: str, limit: int = 50) -> list[Change]:
        with self._state.lock:
            return list(reversed(self._state.changes.get(feature, [])))[:limit]

    def add_metrics(self, batch: Iterable[PathStats]) -> None:
        items = list(batch)
        with self._state.lock:
            self._state.metrics = merge_all([*self._state.metrics.values(), *items])

    def read_metrics(self) -> dict[tuple[str, str], PathStats]:
        with self._state.lock:
            return dict(self._state.metrics)

    def add_mismatches(self, samples: Iterable[MismatchSample]) -> None:
        items = list(samples)
        with self._state.lock:
            for feature in {s.feature for s in items}:
                kept = self._state.mismatches.get(feature, [])
                new = [s for s in items if s.feature == feature]
                merged = list(dict.fromkeys([*kept, *new]))  # a resent sample is kept once
                merged.sort(key=lambda s: s.at)  # stable: ties stay in arrival order
                self._state.mismatches[feature] = merged[-MISMATCH_SAMPLES:]

    def read_mismatches(self, feature: str, limit: int = MISMATCH_SAMPLES) -> list[MismatchSample]:
        with self._state.lock:
            kept = self._state.mismatches.get(feature, [])
            return list(reversed(kept))[: max(0, limit)]

    def close(self) -> None:
        """Nothing to release: the state lives as long as the process (or the object)."""
