"""A per-feature circuit breaker for the function path.

Why hand-written: the breakers on PyPI (pybreaker, circuitbreaker, purgatory) either
wrap the call themselves (we need to count timeouts and fallbacks that happen around
a Celery ``AsyncResult.get``), count only consecutive failures (we also need an error
rate over a window), or bring async/storage machinery the shim does not want. This one
is ~100 lines, pure apart from a lock, and takes an injectable clock so the state
machine is unit-tested without sleeping.

States: CLOSED (calls pass; failures counted) -> OPEN (after ``failure_threshold``
consecutive failures, or an error rate >= ``error_rate`` over the last ``window``
seconds with at least ``min_calls`` calls) -> after ``cooldown`` seconds HALF_OPEN
(exactly one probe call passes; another one only if the first has not reported within
``cooldown``) -> CLOSED on the probe's success, OPEN again on its failure.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BreakerPolicy", "BreakerRegistry", "BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens and how long it stays open."""

    failure_threshold: int = 5
    error_rate: float = 0.5
    window: float = 30.0
    min_calls: int = 20
    cooldown: float = 10.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        if not 0.0 < self.error_rate <= 1.0:
            raise ValueError("error_rate must be in (0, 1]")
        if self.window <= 0 or self.cooldown < 0 or self.min_calls < 1:
            raise ValueError("window must be > 0, cooldown >= 0, min_calls >= 1")


class CircuitBreaker:
    """One feature's breaker. Mutable by nature (it *is* state); guarded by a lock."""

    def __init__(
        self, policy: BreakerPolicy | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._opened_at = 0.0
        self._probing = False
        self._probe_started = 0.0
        self._calls: deque[tuple[float, bool]] = deque()

    @property
    def state(self) -> BreakerState:
        with self._lock:
            self._maybe_half_open()
            return self._state

    def allow(self) -> bool:
        """May a call go to the function path now? In HALF_OPEN only one probe may."""
        with self._lock:
            self._maybe_half_open()
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.HALF_OPEN and self._probe_free():
                self._probing = True
                self._probe_started = self._clock()
                return True
            return False

    def _probe_free(self) -> bool:
        # A probe that never reported (its transaction rolled back before the deferred
        # publish, its thread died) must not hold the breaker half-open forever.
        stale = self._clock() - self._probe_started >= self.policy.cooldown
        return not self._probing or stale

    def record_success(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._remember(ok=True)
            if self._state is not BreakerState.CLOSED:
                self._close()

    def record_failure(self) -> None:
        with self._lock:
            self._consecutive += 1
            self._remember(ok=False)
            if self._state is BreakerState.HALF_OPEN or self._should_open():
                self._open()

    def _maybe_half_open(self) -> None:
        cooled = self._clock() - self._opened_at >= self.policy.cooldown
        if self._state is BreakerState.OPEN and cooled:
            self._state = BreakerState.HALF_OPEN
            self._probing = False

    def _remember(self, ok: bool) -> None:
        now = self._clock()
        self._calls.append((now, ok))
        horizon = now - self.policy.window
        while self._calls and self._calls[0][0] < horizon:
            self._calls.popleft()

    def _should_open(self) -> bool:
        if self._consecutive >= self.policy.failure_threshold:
            return True
        if len(self._calls) < self.policy.min_calls:
            return False
        failures = sum(1 for _, ok in self._calls if not ok)
        return failures / len(self._calls) >= self.policy.error_rate

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        self._probing = False

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._probing = False
        self._calls.clear()


class BreakerRegistry:
    """One breaker per feature, created on first use with a shared policy."""

    def __init__(
        self, policy: BreakerPolicy | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, feature: str) -> CircuitBreaker:
        breaker = self._breakers.get(feature)
        if breaker is None:
            with self._lock:
                breaker = self._breakers.setdefault(
                    feature, CircuitBreaker(self.policy, self._clock)
                )
        return breaker

    def clear(self, policy: BreakerPolicy | None = None) -> None:
        """Forget every breaker (and optionally change the policy): tests, reconfiguration."""
        with self._lock:
            self._breakers = {}
            if policy is not None:
                self.policy = policy

    def states(self) -> dict[str, BreakerState]:
        return {name: b.state for name, b in sorted(self._breakers.items())}
