"""The circuit breaker's state machine, driven by a fake clock."""

from __future__ import annotations

import pytest

from shims.breaker import BreakerPolicy, BreakerRegistry, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(**kw: float) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    policy = BreakerPolicy(**{"failure_threshold": 3, "cooldown": 10.0, **kw})  # type: ignore[arg-type]
    return CircuitBreaker(policy, clock), clock


def test_opens_after_consecutive_failures() -> None:
    breaker, _ = make()
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_a_success_resets_the_consecutive_count() -> None:
    breaker, _ = make()
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_half_open_lets_exactly_one_probe_through_after_cooldown() -> None:
    breaker, clock = make()
    for _ in range(3):
        breaker.record_failure()
    clock.now = 9.9
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # the probe is in flight


def test_a_probe_that_never_reports_is_replaced_after_a_cooldown() -> None:
    breaker, clock = make()
    for _ in range(3):
        breaker.record_failure()
    clock.now = 10.0
    assert breaker.allow()  # this probe is lost (e.g. its transaction rolled back)
    clock.now = 19.9
    assert not breaker.allow()
    clock.now = 20.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_probe_success_closes_probe_failure_reopens() -> None:
    breaker, clock = make()
    for _ in range(3):
        breaker.record_failure()
    clock.now = 10.0
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now = 19.0
    assert not breaker.allow()  # cool-down restarted at 10.0
    clock.now = 20.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()
    assert breaker.allow()


def test_error_rate_over_the_window_opens_without_a_consecutive_run() -> None:
    breaker, clock = make(failure_threshold=100, error_rate=0.5, window=10.0, min_calls=10)
    for i in range(10):  # alternate: never 2 failures in a row, 50% errors
        clock.now = i * 0.1
        breaker.record_failure() if i % 2 else breaker.record_success()
    assert breaker.state is BreakerState.OPEN


def test_error_rate_forgets_calls_older_than_the_window() -> None:
    breaker, clock = make(failure_threshold=100, error_rate=0.5, window=10.0, min_calls=4)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    clock.now = 11.0  # the two failures fall out of the window
    breaker.record_success()
    breaker.record_failure()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_registry_gives_one_breaker_per_feature() -> None:
    registry = BreakerRegistry(BreakerPolicy(failure_threshold=1))
    registry.get("a").record_failure()
    assert registry.get("a") is registry.get("a")
    assert registry.states() == {"a": BreakerState.OPEN}
    assert registry.get("b").allow()


@pytest.mark.parametrize(
    "kw",
    [{"failure_threshold": 0}, {"error_rate": 0.0}, {"error_rate": 1.5}, {"window": 0}],
)
def test_policy_rejects_nonsense(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(**kw)  # type: ignore[arg-type]
