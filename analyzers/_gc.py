"""Pausing the cyclic garbage collector around bulk work: the one place that does it.

Why pause: facts, graphs and capabilities are hundreds of thousands of small acyclic
objects (tuples of frozen dataclasses of strings) that reference counting frees. While
they are built, the cyclic collector would walk them again and again, finding nothing:
a third of a cold run on Django's source.

Why no ``gc.freeze()`` here: it moves every object alive at that moment to the
permanent generation - the caller's whole heap, not only ours. In a long-lived host
(pytest, a server) that keeps whatever cyclic garbage exists then out of the
collector's reach for good. Only a process that ends right after may freeze (or simply
keep the collector paused): that is the CLI's call (``strangler.commands.analyze``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the block; the caller's previous state afterwards
    (nested pauses leave it paused until the outermost one ends)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
