"""Entry points wrapped by the shim, shared by the test process and the caller processes.

The body of each is the monolith path; it counts its runs so a test can tell who
answered a call without the answer itself differing (shadow mode compares answers).
"""

from __future__ import annotations

import threading
from typing import Any

from shims.dispatch import routed

_lock = threading.Lock()
body_runs: dict[str, int] = {"store": 0, "load": 0}


def _ran(name: str) -> None:
    with _lock:
        body_runs[name] += 1


@routed("rel.store.apply", task="rel.apply")
def store_apply(n: int) -> None:
    """Fire-and-forget: the monolith body only counts (the function records an effect)."""
    _ran("store")


@routed("rel.load", task="rel.same", style="request_reply", timeout=5.0)
def load_sum(a: int, b: int) -> dict[str, Any]:
    """Request/reply with fallback: the same answer on either path."""
    _ran("load")
    return {"sum": a + b}
