"""The route store interface: one abstract class, one module per backend (like kombu).

A store holds each feature's :class:`~shims.routing.Route`, an append-only audit log of
every change (who, when, from, to, why) and the metrics aggregates flushed by the
running processes. The hot path never calls a store: :class:`shims.table.RouteTable`
reads ``all()`` at most once per TTL.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from shims.routing import Mode, Route
from shims.stats import PathStats

__all__ = [
    "Change",
    "RouteStore",
    "StoreConfigError",
    "StoreUnavailable",
    "route_from_dict",
    "route_to_dict",
    "utcnow",
    "validate_route",
]

# fullmatch, not ``$``: ``$`` also matches before a trailing newline (``"evil\n"``).
_FEATURE = re.compile(r"[A-Za-z_][\w.:-]{0,199}")


class StoreConfigError(ValueError):
    """The store URL is unusable (unknown scheme, missing path, missing package)."""


class StoreUnavailable(RuntimeError):
    """The store did not answer (server down, file locked); the message has a masked URL."""


@dataclass(frozen=True, slots=True)
class Change:
    """One audit-log entry: ``before`` is ``None`` when the feature had no route yet."""

    feature: str
    actor: str
    at: datetime
    before: Route | None
    after: Route
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "before": None if self.before is None else route_to_dict(self.before),
            "after": route_to_dict(self.after),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        before = data.get("before")
        return cls(
            feature=str(data["feature"]),
            actor=str(data["actor"]),
            at=datetime.fromisoformat(str(data["at"])),
            before=None if before is None else route_from_dict(str(data["feature"]), before),
            after=route_from_dict(str(data["feature"]), data["after"]),
            reason=str(data.get("reason", "")),
        )


class RouteStore(ABC):
    """What every backend provides. Methods raise :class:`StoreUnavailable` on outage."""

    url: str

    @abstractmethod
    def get(self, feature: str) -> Route | None:
        """The feature's route, or ``None`` if it was never set."""

    @abstractmethod
    def all(self) -> dict[str, Route]:
        """Every route, by feature: one read, which is what the TTL cache refreshes from."""

    @abstractmethod
    def set(self, route: Route, *, actor: str, reason: str = "") -> Change:
        """Store ``route`` and append the change to the audit log, atomically."""

    @abstractmethod
    def history(self, feature: str, limit: int = 50) -> list[Change]:
        """The feature's changes, newest first, at most ``limit``."""

    @abstractmethod
    def add_metrics(self, batch: Iterable[PathStats]) -> None:
        """Add (never overwrite) counters and latency buckets from one flush."""

    @abstractmethod
    def read_metrics(self) -> dict[tuple[str, str], PathStats]:
        """Everything flushed so far, merged, by (feature, path)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store is not used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def validate_route(feature: str, mode: str, percent: int | None = None) -> Route:
    """The route an operator asked for, or ``ValueError`` with a one-line reason.

    Shared by the CLI and the Django admin so both refuse the same things: an unknown
    mode, a percent outside 0-100, a percent without canary, canary without a percent.
    """
    if not _FEATURE.fullmatch(feature):
        raise ValueError(
            f"invalid feature name {feature!r}: use letters, digits, '_', '.', ':', '-'"
        )
    try:
        chosen = Mode(mode)
    except ValueError:
        modes = ", ".join(m.value for m in Mode)
        raise ValueError(f"unknown mode {mode!r}: expected one of {modes}") from None
    if percent is not None and not 0 <= percent <= 100:
        raise ValueError(f"percent must be between 0 and 100, got {percent}")
    if chosen is Mode.CANARY and percent is None:
        raise ValueError("canary needs a percent (0-100)")
    if chosen is not Mode.CANARY and percent is not None:
        raise ValueError(f"a percent only applies to canary, not to {chosen.value}")
    return Route(feature, chosen, percent or 0)


def route_to_dict(route: Route) -> dict[str, Any]:
    return {"mode": route.mode.value, "percent": route.percent}


def route_from_dict(feature: str, data: Mapping[str, Any]) -> Route:
    return Route(feature, Mode(data["mode"]), int(data.get("percent", 0)))


def utcnow() -> datetime:
    return datetime.now(UTC)
