"""JSON in and out for the facts cache: orjson when installed, else the stdlib.

Why orjson: the cache is on the hot path of every run (issue 3: a warm run must cost
under a third of ``ast.parse``); orjson encodes about ten times and decodes about
twice as fast as :mod:`json`, and produces the same JSON. JSON only, never pickle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dumps", "loads"]

import json

import orjson


def dumps(value: Any) -> bytes:
    """orjson, else the stdlib for what orjson refuses: a string holding a lone
    surrogate (``"\\udcff"`` in analysed source, in a docstring or a SQL literal),
    which the stdlib escapes (``ensure_ascii``) into valid JSON."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()


def loads(data: bytes | str) -> Any:
    """orjson, else the stdlib (which reads the escaped lone surrogates ``dumps``
    may write); malformed data raises ``ValueError`` from both."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
