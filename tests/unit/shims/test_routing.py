"""The routing decision: sticky, proportional, monolith by default."""

from __future__ import annotations

import zlib

import pytest

from shims.routing import Mode, Path, Route, bucket, decide


def test_unknown_feature_goes_to_the_monolith() -> None:
    assert decide(None, "user-1") is Path.MONOLITH


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(Mode.MONOLITH, Path.MONOLITH), (Mode.FUNCTION, Path.FUNCTION), (Mode.SHADOW, Path.SHADOW)],
)
def test_whole_modes(mode: Mode, expected: Path) -> None:
    assert decide(Route("f", mode), "k") is expected


def test_same_key_same_path_at_a_fixed_percent() -> None:
    route = Route("orders.confirm", Mode.CANARY, 37)
    for key in (str(i) for i in range(500)):
        first = decide(route, key)
        assert all(decide(route, key) is first for _ in range(5))


def test_raising_the_percent_keeps_the_cohort() -> None:
    low, high = Route("f", Mode.CANARY, 10), Route("f", Mode.CANARY, 30)
    keys = [f"user-{i}" for i in range(20_000)]
    cohort = {k for k in keys if decide(low, k) is Path.FUNCTION}
    grown = {k for k in keys if decide(high, k) is Path.FUNCTION}
    assert cohort, "the 10% cohort is empty"
    assert cohort <= grown
    assert len(grown) > len(cohort)


@pytest.mark.parametrize("percent", [0, 1, 10, 25, 50, 75, 99, 100])
def test_percent_is_honoured_within_two_points_over_100k_keys(percent: int) -> None:
    route = Route("notifications.send", Mode.CANARY, percent)
    n = 100_000
    hits = sum(decide(route, str(i)) is Path.FUNCTION for i in range(n))
    assert abs(hits / n * 100 - percent) <= 2


def test_bucket_is_stable_and_in_range() -> None:
    # crc32 is specified, so this value never changes across processes or versions.
    assert bucket("f", "k") == bucket("f", "k")
    assert all(0 <= bucket("feature", str(i)) < 100 for i in range(1000))


def test_canary_without_a_key_is_random_per_call() -> None:
    route = Route("f", Mode.CANARY, 50)
    paths = {decide(route, None) for _ in range(200)}
    assert paths == {Path.FUNCTION, Path.MONOLITH}


@pytest.mark.parametrize("percent", [-1, 101, 150])
def test_percent_out_of_range_is_refused(percent: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        Route("f", Mode.CANARY, percent)


def test_a_key_with_a_lone_surrogate_has_a_stable_bucket() -> None:
    """``json.loads('"\\ud800"')`` and ``os.fsdecode`` make such str; the routing must
    not raise ``UnicodeEncodeError`` into the routed call."""
    route = Route("f", Mode.CANARY, 50)
    key = "user-\udcff"
    assert 0 <= bucket("f", key) < 100
    assert {decide(route, key) for _ in range(20)} == {decide(route, key)}
    assert bucket("f", "user-é") == zlib.crc32("f:user-é".encode()) % 100  # as before


def test_an_empty_key_is_no_key_not_one_bucket_for_every_keyless_call() -> None:
    """A key function answering "" for "no tenant" would put every such call in the
    one bucket of ``f:``: all on the function or none, whatever the percent."""
    route = Route("f", Mode.CANARY, 50)
    paths = {decide(route, "") for _ in range(200)}
    assert paths == {Path.FUNCTION, Path.MONOLITH}
