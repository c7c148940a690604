"""One way to open a store from its URL: scheme dispatch, SQLite paths, masked errors.

Route stores, dedupe stores and dead-letter stores are all chosen by URL scheme, like
kombu's transports. They share this helper so that a URL means the same thing to each
of them (``sqlite:///relative.db``, ``sqlite:////absolute.db``) and so that no error
about a URL can carry its password (every URL in a message goes through ``mask_url``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shims.config import mask_url, userinfo_span

__all__ = [
    "REDIS_OPTIONS",
    "check_redis_url",
    "check_userinfo",
    "open_by_scheme",
    "sqlite_file_missing",
    "sqlite_path",
]

T = TypeVar("T")
SQLITE_PREFIX = "sqlite:///"

# The query options a redis:// store URL may carry. redis-py passes any other key to its
# connection class as a keyword, which fails with a TypeError only at the first command
# (``?x=1``, ``?Password=...``, ``?sentinel_password=...``), so the stores refuse them
# up front. Left out on purpose: ``decode_responses``/``protocol`` (the stores depend on
# the replies' shape) and pool options of other pool classes (``timeout``).
REDIS_OPTIONS = frozenset(
    {
        "db", "username", "password", "client_name", "socket_timeout",
        "socket_connect_timeout", "socket_keepalive", "retry_on_timeout",
        "health_check_interval", "max_connections",
    }
)  # fmt: skip
_REDISS_OPTIONS = REDIS_OPTIONS | {
    "ssl_keyfile", "ssl_certfile", "ssl_cert_reqs", "ssl_ca_certs", "ssl_ca_path",
    "ssl_ca_data", "ssl_check_hostname", "ssl_password", "ssl_ciphers",
}  # fmt: skip
_REDIS_DB_PATH = re.compile(r"/?\d*")
_PERCENT = {"/": "%2F", "?": "%3F", "#": "%23", "@": "%40", ";": "%3B"}


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


def check_redis_url(
    url: str,
    *,
    kind: str,
    extra: Collection[str] = (),
    error: type[ValueError] = ValueError,
) -> None:
    """Refuse a ``redis://``/``rediss://`` URL redis-py would misread or fail on later.

    redis-py reads ``/notadb`` as database 0 and passes unknown query keys on as
    keywords (a TypeError at the first command): both are typos to report now, in one
    line naming the masked URL. ``extra`` are the caller's own options (``prefix``).
    """
    check_userinfo(url, kind=kind, error=error)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise error(f"bad {kind} URL {mask_url(url)!r}: {exc}") from None
    if not _REDIS_DB_PATH.fullmatch(parts.path):
        raise error(
            f"bad {kind} URL {mask_url(url)!r}: the database must be a number (redis://host:6379/0)"
        )
    base = _REDISS_OPTIONS if parts.scheme.lower() == "rediss" else REDIS_OPTIONS
    accepted = base | set(extra)
    for key, _ in parse_qsl(parts.query, keep_blank_values=True):
        if key not in accepted:
            raise error(
                f"unknown option {key!r} in {kind} URL {mask_url(url)!r}; "
                f"accepted: {', '.join(sorted(accepted))}"
            )


def check_userinfo(
    url: str, *, kind: str, also: str = "", error: type[ValueError] = ValueError
) -> None:
    """Refuse a URL whose user name or password holds an unencoded ``/``, ``?``, ``#`` or
    ``@`` (or one of ``also``), or that has an ``@`` after its host.

    Clients split such a URL elsewhere than ``mask_url`` does (``redis://:pa/ss@h`` has
    port ``pa`` and no password to urllib) and their errors quote the piece they choke
    on, a piece of the password (``Port could not be cast to integer value as 'pa'``,
    ``unknown option 'ss@h'``): refused before any client reads it, in one line
    naming only the masked URL. The broker passes ``also=";"``: kombu splits on it.
    """
    span = userinfo_span(url)
    if span is None:
        return
    written = url[span[0] : span[1]]
    try:
        seen = urlsplit(url).netloc.rpartition("@")[0]
    except ValueError:
        seen = ""
    if written != seen or any(char in written for char in also):
        chars = "/?#@" + also
        codes = " ".join(_PERCENT[c] for c in chars)
        raise error(
            f"bad {kind} URL {mask_url(url)!r}: percent-encode each {' '.join(chars)} in "
            f"its user name or password ({codes}), and any @ after its host"
        )


DEFAULT_KEY_PREFIX = "strangler:"


def key_prefix(url: str) -> tuple[str, str]:
    """A Redis URL's ``?prefix=`` (``strangler:`` when absent) and the URL without it
    (redis-py rejects options it does not know). Every Redis store puts its keys under
    it: the route store's routes and counters, and the dedupe, dead-letter and
    confirmation stores that borrow the route store's URL, so two projects sharing one
    database with their own prefixes never read each other's dead letters."""
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "prefix"), DEFAULT_KEY_PREFIX)
    return without_option(url, "prefix"), prefix


def without_option(url: str, key: str) -> str:
    """``url`` less the query option ``key`` (a Redis store's ``?prefix=``, which
    redis-py does not take); the rest of the URL as written."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k != key]
    if len(kept) == len(query):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))
