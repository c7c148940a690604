"""The routing decision: a pure function from (route, routing key) to a path.

Kept free of I/O and of any store so that it is trivially testable and costs well
under a microsecond on the hot path. Percent routing is *sticky*: the key is hashed
with the feature name into one of 100 buckets, so a user who is in the 10% cohort
stays in it when the percentage grows to 30% (the cohort only ever grows).
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BUCKETS", "Mode", "Path", "Route", "bucket", "decide"]

BUCKETS = 100


class Mode(StrEnum):
    """How a feature's calls are routed; the order is the order of a migration."""

    MONOLITH = "monolith"
    SHADOW = "shadow"
    CANARY = "canary"
    FUNCTION = "function"


class Path(StrEnum):
    """Where one call goes."""

    MONOLITH = "monolith"
    FUNCTION = "function"
    SHADOW = "shadow"  # the monolith answers; the function runs too, off the request path


@dataclass(frozen=True, slots=True)
class Route:
    """A feature's routing rule. ``percent`` only matters in canary mode."""

    feature: str
    mode: Mode = Mode.MONOLITH
    percent: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100:
            raise ValueError(f"percent must be between 0 and 100, got {self.percent}")


def bucket(feature: str, key: str) -> int:
    """Stable bucket 0..99 of ``feature:key`` (crc32: stable across processes and runs).

    ``surrogatepass``: a key holding a lone surrogate (``json.loads('"\\udcff"')``,
    ``os.fsdecode``) is a valid ``str`` that strict UTF-8 refuses; it must route, not
    raise into the caller. Text that is valid UTF-8 hashes exactly as before.
    """
    return zlib.crc32(f"{feature}:{key}".encode("utf-8", "surrogatepass")) % BUCKETS


def decide(route: Route | None, key: str | None) -> Path:
    """Choose the path for one call.

    An unknown feature (``route is None``) goes to the monolith. In canary mode a call
    without a routing key is decided per call at random, so it is not sticky. An empty
    key counts as none: hashed, every key-less call of a feature would share the one
    bucket of ``feature:`` and go all to the function or all to the monolith.
    """
    if route is None:
        return Path.MONOLITH
    mode = route.mode
    if mode is Mode.MONOLITH:
        return Path.MONOLITH
    if mode is Mode.FUNCTION:
        return Path.FUNCTION
    if mode is Mode.SHADOW:
        return Path.SHADOW
    if route.percent <= 0:
        return Path.MONOLITH
    if route.percent >= BUCKETS:
        return Path.FUNCTION
    slot = random.randrange(BUCKETS) if key is None or key == "" else bucket(route.feature, key)
    return Path.FUNCTION if slot < route.percent else Path.MONOLITH
