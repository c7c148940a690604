"""One way to open a store from its URL: scheme dispatch, SQLite paths, masked errors.

Route stores, dedupe stores and dead-letter stores are all chosen by URL scheme, like
kombu's transports. They share this helper so that a URL means the same thing to each
of them (``sqlite:///relative.db``, ``sqlite:////absolute.db``) and so that no error
about a URL can carry its password (every URL in a message goes through ``mask_url``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from shims.config import mask_url

__all__ = ["open_by_scheme", "sqlite_file_missing", "sqlite_path"]

T = TypeVar("T")
SQLITE_PREFIX = "sqlite:///"


def open_by_scheme(
    url: str,
    openers: Mapping[str, Callable[[str], T]],
    *,
    kind: str,
    expected: str,
    error: type[ValueError] = ValueError,
) -> T:
    """``openers[scheme](url)``; ``error`` naming the masked URL for an unknown scheme."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    opener = openers.get(scheme)
    if opener is None:
        raise error(f"unknown {kind} URL {mask_url(url)!r}: expected {expected}")
    return opener(url)


def sqlite_file_missing(url: str) -> bool:
    """Does a ``sqlite:`` URL name a file that is not there? A read-only command says
    so instead of opening it (which would create an empty database). False for any
    other URL, and for a bad one: opening it reports that."""
    if not url.startswith("sqlite:"):
        return False
    try:
        return not sqlite_path(url).exists()
    except ValueError:
        return False


def sqlite_path(url: str, *, error: type[ValueError] = ValueError) -> Path:
    """The file a ``sqlite:///relative`` or ``sqlite:////absolute`` URL names."""
    if not url.startswith(SQLITE_PREFIX) or len(url) == len(SQLITE_PREFIX):
        raise error(
            f"bad SQLite URL {mask_url(url)!r}: expected sqlite:///relative/path.db "
            "or sqlite:////absolute/path.db"
        )
    return Path(url[len(SQLITE_PREFIX) :])
