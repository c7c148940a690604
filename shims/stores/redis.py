"""``redis://host:port/db`` — the store for a fleet of monolith processes and workers.

Needs the optional ``redis`` package (``pip install 'strangler[redis]'``), imported only
when such a URL is opened. Keys live under a prefix (``strangler:`` by default, or
``?prefix=...`` in the URL) so the store can share a database with a Celery broker:

* ``{prefix}routes`` - hash feature -> ``{"mode", "percent"}`` (JSON)
* ``{prefix}history:{feature}`` - list of changes, newest first (JSON)
* ``{prefix}metrics`` - set of ``[feature, path]`` members (JSON) that have counters
* ``{prefix}metrics:[feature, path]`` - hash ``o:<outcome>`` / ``b:<bucket>`` -> count
* ``{prefix}mismatches:{feature}`` - sorted set of mismatch samples (JSON), scored by the
  time they were seen; trimmed to the newest ``MISMATCH_SAMPLES`` on every write

Other query options are redis-py's connection options (``shims.urls.REDIS_OPTIONS``);
an unknown one, or a database that is not a number, is refused when the store opens.

A route change is one WATCH/MULTI transaction, so the audit entry always records the
route it replaced even when two operators race.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from shims.config import mask_url
from shims.routing import Route
from shims.stats import PathStats
from shims.stores.base import (
    MISMATCH_SAMPLES,
    Change,
    MismatchSample,
    RouteStore,
    StoreConfigError,
    StoreUnavailable,
    route_from_dict,
    route_to_dict,
    utcnow,
)
from shims.urls import check_redis_url, key_prefix

__all__ = ["RedisStore"]

T = TypeVar("T")


class RedisStore(RouteStore):
    def __init__(self, url: str, *, timeout: float = 0.5) -> None:
        try:
            import redis
        except ImportError:
            raise StoreConfigError(
                f"route store {mask_url(url)} needs the 'redis' package: "
                "pip install 'strangler[redis]'"
            ) from None
        check_redis_url(url, kind="route store", extra={"prefix"}, error=StoreConfigError)
        self.url = url
        client_url, self.prefix = _split_prefix(url)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client: Any = redis.Redis.from_url(
            client_url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
        )
        self._routes = f"{self.prefix}routes"
        self._index = f"{self.prefix}metrics"

    # ------------------------------------------------------------ routes

    def get(self, feature: str) -> Route | None:
        raw = self._call(lambda: self._client.hget(self._routes, feature))
        return None if raw is None else route_from_dict(feature, json.loads(raw))

    def all(self) -> dict[str, Route]:
        raw: dict[str, str] = self._call(lambda: self._client.hgetall(self._routes))
        return {f: route_from_dict(f, json.loads(v)) for f, v in raw.items()}

    def set(self, route: Route, *, actor: str, reason: str = "") -> Change:
        history = self._history_key(route.feature)

        def transaction(pipe: Any) -> Change:
            raw = pipe.hget(self._routes, route.feature)
            before = None if raw is None else route_from_dict(route.feature, json.loads(raw))
            change = Change(route.feature, actor, utcnow(), before, route, reason)
            pipe.multi()
            pipe.hset(self._routes, route.feature, json.dumps(route_to_dict(route)))
            pipe.lpush(history, json.dumps(change.to_dict()))
            return change

        change: Change = self._call(
            lambda: self._client.transaction(transaction, self._routes, value_from_callable=True)
        )
        return change

    def history(self, feature: str, limit: int = 50) -> list[Change]:
        if limit <= 0:
            return []
        key = self._history_key(feature)
        raw: list[str] = self._call(lambda: self._client.lrange(key, 0, limit - 1))
        return [Change.from_dict(json.loads(item)) for item in raw]

    # ------------------------------------------------------------ metrics

    def add_metrics(self, batch: Iterable[PathStats]) -> None:
        items = list(batch)
        if not items:
            return

        def write() -> None:
            pipe = self._client.pipeline(transaction=True)
            for s in items:
                member = json.dumps([s.feature, s.path])
                key = f"{self._index}:{member}"
                pipe.sadd(self._index, member)
                for outcome, n in s.outcomes.items():
                    pipe.hincrby(key, f"o:{outcome}", n)
                for index, n in s.latency.items():
                    pipe.hincrby(key, f"b:{index}", n)
            pipe.execute()

        self._call(write)

    def read_metrics(self) -> dict[tuple[str, str], PathStats]:
        def read() -> dict[tuple[str, str], PathStats]:
            members = sorted(self._client.smembers(self._index))
            pipe = self._client.pipeline(transaction=False)
            for member in members:
                pipe.hgetall(f"{self._index}:{member}")
            out: dict[tuple[str, str], PathStats] = {}
            for member, fields in zip(members, pipe.execute(), strict=True):
                feature, path = json.loads(member)
                out[(feature, path)] = _stats(feature, path, fields)
            return out

        return self._call(read)

    # ------------------------------------------------------------ mismatch samples

    def add_mismatches(self, samples: Iterable[MismatchSample]) -> None:
        items = list(samples)
        if not items:
            return

        def write() -> None:
            pipe = self._client.pipeline(transaction=True)
            for s in items:  # the member is the whole sample: one sent twice is kept once
                member = json.dumps(s.to_dict(), sort_keys=True)
                pipe.zadd(self._mismatches_key(s.feature), {member: s.at.timestamp()})
            for feature in sorted({s.feature for s in items}):
                pipe.zremrangebyrank(self._mismatches_key(feature), 0, -(MISMATCH_SAMPLES + 1))
            pipe.execute()

        self._call(write)

    def read_mismatches(self, feature: str, limit: int = MISMATCH_SAMPLES) -> list[MismatchSample]:
        if limit <= 0:
            return []
        key = self._mismatches_key(feature)
        raw: list[str] = self._call(lambda: self._client.zrevrange(key, 0, limit - 1))
        return [MismatchSample.from_dict(json.loads(item)) for item in raw]

    # ------------------------------------------------------------ plumbing

    def close(self) -> None:
        self._client.close()

    def _history_key(self, feature: str) -> str:
        return f"{self.prefix}history:{feature}"

    def _mismatches_key(self, feature: str) -> str:
        return f"{self.prefix}mismatches:{feature}"

    def _call(self, operation: Callable[[], T]) -> T:
        with self._translated():
            return operation()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            raise StoreUnavailable(f"route store {mask_url(self.url)}: {exc}") from exc


def _split_prefix(url: str) -> tuple[str, str]:
    """Take ``prefix`` out of the query string (redis-py would reject it)."""
    if urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise StoreConfigError(f"not a Redis URL: {mask_url(url)}")
    return key_prefix(url)


def _stats(feature: str, path: str, fields: dict[str, str]) -> PathStats:
    outcomes = {k[2:]: int(v) for k, v in fields.items() if k.startswith("o:")}
    latency = {int(k[2:]): int(v) for k, v in fields.items() if k.startswith("b:")}
    return PathStats(feature, path, outcomes, latency)
