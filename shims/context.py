"""The routing key of the current request or task, carried in a contextvar.

A contextvar (rather than a thread-local) follows the request through threads *and*
asyncio tasks, so the Django middleware can set it once and the ``@routed`` entry
point deep inside the call stack reads it without it being passed around.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["current_key", "routing_key", "use_key"]

routing_key: ContextVar[str | None] = ContextVar("strangler_routing_key", default=None)


def current_key() -> str | None:
    """The routing key in effect (``None``: canary decides per call, at random)."""
    return routing_key.get()


@contextmanager
def use_key(key: str | None) -> Iterator[None]:
    """Route the calls inside the block as ``key``; the previous key comes back after."""
    token = routing_key.set(key)
    try:
        yield
    finally:
        routing_key.reset(token)
