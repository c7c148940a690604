"""The route store interface: one abstract class, one module per backend (like kombu).

A store holds each feature's :class:`~shims.routing.Route`, an append-only audit log of
every change (who, when, from, to, why), the metrics aggregates flushed by the running
processes and, per feature, the most recent shadow mismatches they saw (at most
:data:`MISMATCH_SAMPLES`), so that the person deciding whether to move traffic can read
the differences, not only count them. The hot path never calls a store:
:class:`shims.table.RouteTable` reads ``all()`` at most once per TTL, and counters and
mismatch samples travel with the background metrics flush (``shims.metrics``).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from shims.routing import Mode, Route
from shims.stats import PathStats

__all__ = [
    "MISMATCH_SAMPLES",
    "Change",
    "MismatchSample",
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

# How many shadow mismatches a store keeps per feature: the newest, by time seen.
MISMATCH_SAMPLES = 50


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


@dataclass(frozen=True, slots=True)
class MismatchSample:
    """One shadow mismatch as the store keeps it: what differed, where and when it was seen.

    ``monolith`` and ``function`` are the two values JSON-encoded and already truncated
    (``shims.dispatch.Mismatch``); ``process`` is ``host:pid`` of the process that
    compared them, whose log has the WARNING line with the same ``event_id``.
    """

    feature: str
    event_id: str
    at: datetime
    field: str
    monolith: str
    function: str
    process: str

    def to_dict(self) -> dict[str, str]:
        return {**asdict(self), "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MismatchSample:
        return cls(
            feature=str(data["feature"]),
            event_id=str(data["event_id"]),
            at=datetime.fromisoformat(str(data["at"])),
            field=str(data["field"]),
            monolith=str(data["monolith"]),
            function=str(data["function"]),
            process=str(data.get("process", "")),
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
    def add_mismatches(self, samples: Iterable[MismatchSample]) -> None:
        """Keep ``samples``; per feature only the newest :data:`MISMATCH_SAMPLES` (by
        ``at``) stay, older ones are dropped. A sample sent again (a retried flush) is
        kept once."""

    @abstractmethod
    def read_mismatches(self, feature: str, limit: int = MISMATCH_SAMPLES) -> list[MismatchSample]:
        """The feature's kept mismatch samples, newest first, at most ``limit``."""

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
