"""Routing overhead on the monolith path, with routes cached (issue 4: <= 1 µs per call).

What the ``@routed`` hot path adds before it runs the monolith body: one
``RouteTable.get`` (a monotonic-clock check and a dict lookup; the table re-reads the
real SQLite store at most once per 1 s TTL, and that amortised cost is included), one
``decide`` and one contextvar read. Compared, in the same run, with a bare call of the
same function; each figure is the minimum over repeats of ``timeit`` (the least
disturbed run), divided by the number of calls.

Run: ``python -m benchmarks bench_routing`` (or ``make bench``).
"""

from __future__ import annotations

import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import Measurement
from shims.context import routing_key, use_key
from shims.routing import Mode, Route, decide
from shims.stores import open_store
from shims.table import RouteTable

NUMBER = 200_000
REPEAT = 7
FEATURE = "orders.confirm"


def monolith_body(order_id: int) -> int:
    return order_id + 1


def best_ns(fn: Callable[[], object]) -> float:
    """Minimum per-call time in nanoseconds over REPEAT runs of NUMBER calls."""
    return min(timeit.repeat(fn, number=NUMBER, repeat=REPEAT)) / NUMBER * 1e9


def routed_call(table: RouteTable, feature: str) -> Callable[[], object]:
    get, key = table.get, routing_key.get

    def call() -> object:
        route = get(feature)
        decide(route, key())
        return monolith_body(42)

    return call


def run() -> list[Measurement]:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'routes.db'}")
        store.set(Route(FEATURE, Mode.MONOLITH), actor="bench")
        store.set(Route("orders.canary", Mode.CANARY, 30), actor="bench")
        table = RouteTable(store, ttl=1.0)
        table.get(FEATURE)  # warm: routes cached

        with use_key("user-1234"):
            bare = best_ns(lambda: monolith_body(42))
            monolith = best_ns(routed_call(table, FEATURE))
            unknown = best_ns(routed_call(table, "never.routed"))
            canary = best_ns(routed_call(table, "orders.canary"))
            bare_again = best_ns(lambda: monolith_body(42))
        store.close()

    baseline = min(bare, bare_again)
    details: dict[str, float | int | str] = {
        "bare_call_ns": round(baseline, 1),
        "routed_call_ns": round(monolith, 1),
        "calls_per_repeat": NUMBER,
        "repeats": REPEAT,
        "store": "sqlite, ttl 1.0 s",
    }
    return [
        Measurement(
            "routing: monolith-path overhead per call, routes cached",
            (monolith - baseline) / 1000,
            "µs",
            bar=1.0,
            op="<=",
            details=details,
        ),
        Measurement(
            "routing: overhead for a feature with no route (monolith)",
            (unknown - baseline) / 1000,
            "µs",
            details={"bare_call_ns": round(baseline, 1), "routed_call_ns": round(unknown, 1)},
        ),
        Measurement(
            "routing: overhead in canary 30% (crc32 bucket), decision only",
            (canary - baseline) / 1000,
            "µs",
            details={"bare_call_ns": round(baseline, 1), "routed_call_ns": round(canary, 1)},
        ),
    ]
