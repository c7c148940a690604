"""The Celery app the shim publishes with and the handlers run under: JSON only.

Pickle is how a message broker becomes remote code execution, so an app whose
configuration would accept or produce pickle is refused (:func:`ensure_json_only`)
both when the shim builds its app and when a handler is registered on a user's app.

Delivery settings follow the handler contract: ``task_acks_late`` and
``task_reject_on_worker_lost`` (a worker killed mid-task leaves the message to be
redelivered; the handler base dedupes by event id), ``worker_prefetch_multiplier=1``
(a slow handler does not hoard messages). Publishing has a short, bounded retry so a
broker outage turns into a fast error the shim can fall back on, not a hung request.

Importing this module makes ``filesystem://`` (the embedded default broker) mean
:mod:`shims.fsbroker`'s transport in this process: kombu's own loses the messages a
killed worker had taken.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from celery import Celery

from shims.config import Settings, load_settings, mask_url, split_failover
from shims.urls import check_userinfo

if os.name == "posix":  # the durable transport locks with fcntl; elsewhere kombu's own
    from shims import fsbroker

    fsbroker.register()

__all__ = [
    "PublishConfig",
    "UnsafeSerializerError",
    "build_app",
    "celery_config",
    "check_broker_url",
    "check_urls",
    "close_app",
    "ensure_json_only",
]

JSON = "json"
_CONTENT_KEYS = ("accept_content", "result_accept_content")
_SERIALIZER_KEYS = ("task_serializer", "result_serializer", "event_serializer")


class UnsafeSerializerError(RuntimeError):
    """A Celery configuration that would accept or produce something other than JSON."""


class PublishConfig:
    """Bounded publish retry: fail in about a second when the broker is down."""

    retry_policy: dict[str, float] = {
        "max_retries": 1,
        "interval_start": 0.1,
        "interval_step": 0.2,
        "interval_max": 0.3,
    }


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for ``settings`` (creates the filesystem folders).

    ``ValueError`` (one line, URLs masked) for a broker or result backend URL whose
    password kombu would split (:func:`check_urls`): a worker would otherwise start and
    print kombu's error quoting a piece of it, and a routed call would log it.
    """
    check_urls(settings)
    transport_options = dict(settings.broker_transport_options())
    if transport_options:  # filesystem transport: poll often enough for request/reply
        transport_options.setdefault("polling_interval", 0.1)
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in transport_options:
            Path(transport_options[key]).mkdir(parents=True, exist_ok=True)
    _prepare_result_backend(settings.result_backend)
    backend_options: dict[str, Any] = {}
    if settings.result_backend.startswith(("redis://", "rediss://")):
        # Celery's default is 20 reconnects a second apart: a request/reply caller
        # would hang 20 s on a Redis outage instead of falling back.
        backend_options["retry_policy"] = PublishConfig.retry_policy
    return {
        "result_backend_transport_options": backend_options,
        "broker_url": settings.broker_url,
        "broker_transport_options": transport_options,
        "result_backend": settings.result_backend,
        "task_serializer": JSON,
        "result_serializer": JSON,
        "event_serializer": JSON,
        "accept_content": [JSON],
        "result_accept_content": [JSON],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_publish_retry": True,
        "task_publish_retry_policy": PublishConfig.retry_policy,
        "broker_connection_timeout": 1.0,
        "broker_connection_retry_on_startup": True,
        "result_expires": 3600,
        # Redis: one backend (one pub/sub connection) per app, shared by the request
        # threads and the shadow pool, so closing the app really closes it. (rpc://
        # keeps Celery's one-backend-per-thread: its reply consumer is not shareable.)
        "result_backend_thread_safe": settings.result_backend.startswith(("redis", "rediss")),
        "worker_hijack_root_logger": False,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "redis_socket_connect_timeout": 1.0,
        "redis_socket_timeout": 5.0,
    }


def _prepare_result_backend(url: str) -> None:
    if url.startswith("file://"):
        path = url.removeprefix("file://localhost").removeprefix("file://")
        Path(path).mkdir(parents=True, exist_ok=True)


def check_urls(settings: Settings) -> None:
    """Refuse broker and result backend URLs whose user info clients would split.

    kombu and Celery's backends read ``amqp://u:p/w@h//`` as host ``u``, port ``p``, and
    fail on first use with ``Port could not be cast to integer value as 'p'``: a piece
    of the password in a worker's output or the monolith's log. Only the URLs' shape is
    checked here (no import, no connection); ``file://`` result paths have no user info.
    """
    _check_broker_userinfo(settings.broker_url)
    if not settings.result_backend.startswith("file:"):
        check_userinfo(settings.result_backend, kind="result backend")


def _check_broker_userinfo(url: str) -> None:
    """Each URL of a failover list; ``;`` too, which kombu splits on wherever it is."""
    for part in split_failover(url):
        check_userinfo(part, kind="broker", also=";")


def check_broker_url(url: str) -> None:
    """``ValueError`` (one line, URL masked) when no kombu transport can serve ``url``.

    kombu looks the transport up only at the first publish, where an unknown scheme is
    a bare ``KeyError: 'No such transport'`` and a missing package an ``ImportError``;
    a command checks its broker URL first, so bad input is reported before anything
    is written (the filesystem transport's folders, the results folder).
    """
    from kombu.connection import Connection
    from kombu.transport import TRANSPORT_ALIASES, get_transport_cls

    if not url.strip():
        raise ValueError("empty broker URL: expected e.g. redis://host:6379/0 or filesystem://")
    _check_broker_userinfo(url)
    try:
        get_transport_cls(Connection(url).transport_cls)  # type: ignore[no-untyped-call]
    except KeyError:
        known = ", ".join(sorted({name.lower() for name in TRANSPORT_ALIASES}))
        raise ValueError(
            f"unknown broker transport in {mask_url(url)!r}: expected one of {known}"
        ) from None
    except ImportError as exc:
        raise ValueError(
            f"broker {mask_url(url)!r} needs the package {exc.name!r}, not installed"
        ) from None
    except (ValueError, TypeError) as exc:
        # TypeError: a query key kombu also takes from the URL's own parts
        # (``?password=``, ``?port=``) collides in its ``dict(...)``; the message
        # names keys, never values
        raise ValueError(f"bad broker URL {mask_url(url)!r}: {exc}") from None


def build_app(
    settings: Settings | None = None, *, name: str = "strangler", **overrides: Any
) -> Celery:
    """A Celery app configured from ``settings`` (loaded if omitted), JSON only.

    ``overrides`` are extra Celery settings (lowercase names); they are checked too,
    so ``build_app(accept_content=["pickle"])`` raises :class:`UnsafeSerializerError`.
    """
    settings = settings or load_settings()
    app = Celery(name, set_as_current=False)
    app.conf.update(celery_config(settings), **overrides)
    ensure_json_only(app)
    return app


def close_app(app: Celery) -> None:
    """Close ``app``'s broker connections *and* its result backend's (``app.close`` doesn't)."""
    candidates = (app._backend_cache, getattr(app._local, "backend", None))
    for backend in {id(b): b for b in candidates if b is not None}.values():
        _close_backend(backend)
    app.close()


def _close_backend(backend: Any) -> None:
    """Stop the result consumer (Redis pub/sub, or the rpc:// reply consumer) and pool."""
    consumer = getattr(backend, "result_consumer", None)
    if consumer is not None and (
        getattr(consumer, "_pubsub", None) is not None
        or getattr(consumer, "_connection", None) is not None
    ):
        consumer.stop()
    pool = getattr(getattr(backend, "client", None), "connection_pool", None)
    if pool is not None:
        pool.disconnect()


def ensure_json_only(app: Celery) -> Celery:
    """Raise :class:`UnsafeSerializerError` unless ``app`` speaks JSON and only JSON."""
    conf = app.conf
    for key in _SERIALIZER_KEYS:
        value = conf.get(key)
        if value is not None and value != JSON:
            raise UnsafeSerializerError(
                f"Celery setting {key}={value!r} is refused: strangler sends JSON only "
                "(pickle in a message broker means remote code execution)"
            )
    for key in _CONTENT_KEYS:
        accepted = _as_list(conf.get(key))
        unsafe = [c for c in accepted if c not in (JSON, "application/json")]
        if unsafe:
            raise UnsafeSerializerError(
                f"Celery setting {key}={accepted!r} is refused: it accepts {unsafe!r}; "
                'strangler requires ["json"] only'
            )
    return app


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return [str(value)]
