"""Caller processes for the reliability suite: ``python -m tests.reliability.callers MODE``.

* ``fresh STORE_URL CALLS``: a process that starts while the route store is down and
  calls ``rel.store.apply``; prints which path answered (it never knew a route).
* ``load STORE_URL BROKER_URL QUEUE SECONDS THREADS``: calls ``rel.load`` from threads
  for SECONDS with random routing keys, checks every answer, flushes its metrics, and
  prints its tally as JSON.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from typing import Any

from shims.context import use_key
from shims.dispatch import publisher, shadow_pool
from shims.runtime import configure, get_runtime, reset_runtime
from tests.reliability import entries


def fresh(store_url: str, calls: int) -> dict[str, Any]:
    configure(route_store_url=store_url, route_ttl=0.2, route_store_timeout=0.2)
    for n in range(calls):
        entries.store_apply(n)
    stats = get_runtime().metrics.snapshot()
    paths = {path: sum(s.outcomes.values()) for (f, path), s in stats.items()}
    return {"calls": calls, "body_runs": entries.body_runs["store"], "paths": paths}


def load(store_url: str, broker: str, queue: str, seconds: float, threads: int) -> dict[str, Any]:
    from shims.celery import build_app, close_app
    from shims.config import load_settings

    configure(route_store_url=store_url, route_ttl=0.5, metrics_flush_interval=1.0)
    app = build_app(
        load_settings({"broker_url": broker, "result_backend": broker}),
        name="rel-caller", task_default_queue=queue,
    )  # fmt: skip
    publisher.use_app(app)
    tally = run_load(seconds, threads)
    shadow_pool.join(timeout=30)
    publisher.use_app(None)
    reset_runtime()  # flushes this process's metrics to the store
    close_app(app)
    return tally


def run_load(seconds: float, threads: int) -> dict[str, Any]:
    """``threads`` callers for ``seconds``: calls made, errors, wrong answers."""
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def caller(seed: int) -> None:
        rng = random.Random(seed)
        mine = {"calls": 0, "errors": [], "wrong": 0}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            a, b = rng.randrange(1000), rng.randrange(1000)
            try:
                with use_key(f"user-{rng.randrange(1000)}"):
                    reply = entries.load_sum(a, b)
                if reply != {"sum": a + b}:
                    mine["wrong"] += 1
            except Exception as exc:
                mine["errors"].append(f"{type(exc).__name__}: {exc}"[:200])
            mine["calls"] += 1
            time.sleep(0.001)  # a busy request loop, not a spin: lets every path get traffic
        with lock:
            results.append(mine)

    pool = [threading.Thread(target=caller, args=(random.random(),)) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=seconds + 60)
    return {
        "calls": sum(r["calls"] for r in results),
        "errors": [e for r in results for e in r["errors"]][:20],
        "error_count": sum(len(r["errors"]) for r in results),
        "wrong": sum(r["wrong"] for r in results),
        "body_runs": entries.body_runs["load"],
        "threads_finished": len(results),
    }


def main(argv: list[str]) -> None:
    mode, *rest = argv
    if mode == "fresh":
        out = fresh(rest[0], int(rest[1]))
    elif mode == "load":
        out = load(rest[0], rest[1], rest[2], float(rest[3]), int(rest[4]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])


__all__ = ["fresh", "load", "run_load"]
