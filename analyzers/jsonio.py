"""JSON in and out for the facts cache: orjson when installed, else the stdlib.

Why orjson: the cache is on the hot path of every run (issue 3: a warm run must cost
under a third of ``ast.parse``); orjson encodes about ten times and decodes about
twice as fast as :mod:`json`, and produces the same JSON. JSON only, never pickle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dumps", "loads"]

try:
    import orjson

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    def loads(data: bytes | str) -> Any:
        return orjson.loads(data)

except ImportError:  # pragma: no cover - orjson is a declared dependency
    import json

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    def loads(data: bytes | str) -> Any:
        return json.loads(data)
