"""Side effects of a call: captured (shadow handler) or observed (monolith path).

A shadow run must never perform an external effect a second time, yet we want to
compare what the function *would* have done with what the monolith *did*. Two modes,
one hook set:

* :func:`capture` (handler side, shadow events): outgoing mail is recorded and not
  sent, outgoing HTTP is recorded and answered with an empty ``200`` instead of being
  sent, and database writes run inside one transaction per configured Django database
  that is rolled back at the end (the INSERT/UPDATE/DELETE statements are recorded).
* :func:`observe` (monolith side, shadow mode): mail and HTTP are recorded *and* go
  through as usual, so the monolith's real send happens exactly once.

Hooks are installed once per process, lazily, and are no-ops unless the current
context (a contextvar) is capturing or observing, so concurrent non-shadow work in
other threads or tasks is untouched.

What is covered:
  mail  - everything that goes through ``django.core.mail.get_connection`` (send_mail,
          send_mass_mail, mail_admins, EmailMessage.send, EmailMultiAlternatives).
  http  - ``urllib.request`` (``urlopen`` / ``OpenerDirector.open``), and when installed
          ``requests.Session.send`` and ``httpx.Client.send`` / ``AsyncClient.send``.
  db    - Django ORM and ``connection.cursor()`` on every alias in ``DATABASES``.
Not covered (documented in docs/dispatch.md): raw ``http.client``/``socket`` use,
other HTTP clients (aiohttp, pycurl), writes through a non-Django connection, files,
subprocesses, and Celery tasks the handler itself publishes.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

__all__ = ["EffectLog", "capture", "mail_summary", "observe"]

_WRITE_PREFIXES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@dataclass
class EffectLog:
    """What one call did (or would have done). Mutable: filled while the call runs."""

    mail: list[dict[str, Any]] = field(default_factory=list)
    http: list[dict[str, Any]] = field(default_factory=list)
    db: list[str] = field(default_factory=list)
    # The message objects themselves, for parity mode (``shims.parity``), which hands
    # the test process everything it may assert; never serialised or compared.
    messages: list[Any] = field(default_factory=list, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"mail": list(self.mail), "http": list(self.http), "db": list(self.db)}


@dataclass(frozen=True, slots=True)
class _Mode:
    log: EffectLog
    passthrough: bool  # observe: record and perform; capture: record only


_mode: ContextVar[_Mode | None] = ContextVar("strangler_effects", default=None)
_install_lock = threading.Lock()
_settled: set[str] = set()
_next_try = 0.0  # hooks installed, or known absent (library not installed)


def mail_summary(message: Any) -> dict[str, Any]:
    """The comparable part of an ``EmailMessage``."""
    return {
        "from": str(message.from_email or ""),
        "to": sorted(str(a) for a in message.to),
        "cc": sorted(str(a) for a in message.cc),
        "bcc": sorted(str(a) for a in message.bcc),
        "subject": str(message.subject),
        "body": str(message.body),
    }


class observe:
    """Record mail and HTTP made in the block, letting them through.

    A class rather than ``@contextmanager``: it runs on the shadow request path, where
    the generator machinery would cost more than the work itself.
    """

    __slots__ = ("_token", "log")

    def __enter__(self) -> EffectLog:
        _install_hooks()
        self.log = EffectLog()
        self._token = _mode.set(_Mode(self.log, passthrough=True))
        return self.log

    def __exit__(self, *exc: object) -> None:
        _mode.reset(self._token)


@contextlib.contextmanager
def capture(databases: bool = True) -> Iterator[EffectLog]:
    """Record mail, HTTP and DB writes made in the block, performing none of them."""
    _install_hooks()
    log = EffectLog()
    token = _mode.set(_Mode(log, passthrough=False))
    try:
        with contextlib.ExitStack() as stack:
            if databases:
                _rollback_databases(stack, log)
            yield log
    finally:
        _mode.reset(token)


# ---------------------------------------------------------------- database


def _django_ready() -> bool:
    conf = sys.modules.get("django.conf")
    return conf is not None and bool(conf.settings.configured) and _apps_ready()


def _apps_ready() -> bool:
    from django.apps import apps

    return bool(apps.ready)


def _rollback_databases(stack: contextlib.ExitStack, log: EffectLog) -> None:
    if not _django_ready():
        return
    from django.db import connections, transaction

    for alias in connections:
        connection = connections[alias]
        stack.enter_context(_rolled_back(transaction, alias))
        stack.enter_context(connection.execute_wrapper(_write_recorder(log)))


@contextlib.contextmanager
def _rolled_back(transaction: Any, alias: str) -> Iterator[None]:
    with transaction.atomic(using=alias):
        try:
            yield
        finally:
            transaction.set_rollback(True, using=alias)


def _write_recorder(log: EffectLog) -> Callable[..., Any]:
    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        if sql.lstrip().upper().startswith(_WRITE_PREFIXES):
            log.db.append(sql)
        return execute(sql, params, many, ctx)

    return record


# ---------------------------------------------------------------- hooks


def _install_hooks() -> None:
    """Install each hook once; mail is retried (at most once a second) until Django is set up."""
    global _next_try
    if len(_settled) == len(_HOOKS):
        return
    now = time.monotonic()
    if now < _next_try:
        return
    _next_try = now + 1.0
    with _install_lock:
        for name, install in _HOOKS.items():
            if name not in _settled and (install() or name != "mail"):
                _settled.add(name)


def _install_mail() -> bool:
    if not _django_ready():
        return False
    mail: Any = importlib.import_module("django.core.mail")
    original = mail.get_connection

    def get_connection(backend: Any = None, fail_silently: bool = False, **kwds: Any) -> Any:
        connection = original(backend, fail_silently, **kwds)
        mode = _mode.get()
        return connection if mode is None else _RecordingConnection(connection, mode)

    mail.get_connection = get_connection
    return True


class _RecordingConnection:
    """Wraps an email backend: records each message, sends only when passing through."""

    def __init__(self, connection: Any, mode: _Mode) -> None:
        self._connection = connection
        self._mode = mode

    def send_messages(self, messages: Any) -> int:
        messages = list(messages or [])
        self._mode.log.mail.extend(mail_summary(m) for m in messages)
        self._mode.log.messages.extend(messages)
        if self._mode.passthrough:
            return int(self._connection.send_messages(messages) or 0)
        return len(messages)

    def open(self) -> Any:
        return self._connection.open() if self._mode.passthrough else False

    def close(self) -> None:
        if self._mode.passthrough:
            self._connection.close()

    def __enter__(self) -> _RecordingConnection:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy/pickle probe before __init__ ran: no recursion
            raise AttributeError(name)
        return getattr(self._connection, name)


def _install_urllib() -> bool:
    import urllib.request

    original = urllib.request.OpenerDirector.open

    def open_(self: Any, fullurl: Any, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        mode = _mode.get()
        if mode is None:
            return original(self, fullurl, data, *args, **kwargs)
        url = fullurl if isinstance(fullurl, str) else fullurl.full_url
        method = "POST" if data is not None else "GET"
        if not isinstance(fullurl, str):
            method = fullurl.get_method()
        mode.log.http.append({"client": "urllib", "method": method, "url": url})
        if mode.passthrough:
            return original(self, fullurl, data, *args, **kwargs)
        return urllib.response.addinfourl(io.BytesIO(b""), Message(), url, code=200)

    urllib.request.OpenerDirector.open = open_  # type: ignore[method-assign]
    return True


def _install_requests() -> bool:
    try:
        requests = importlib.import_module("requests")
    except ImportError:
        return False
    original = requests.Session.send

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        mode = _mode.get()
        if mode is None:
            return original(self, request, **kwargs)
        mode.log.http.append({"client": "requests", "method": request.method, "url": request.url})
        if mode.passthrough:
            return original(self, request, **kwargs)
        response = requests.Response()
        response.status_code, response._content, response.url = 200, b"", request.url
        response.request = request
        return response

    requests.Session.send = send
    return True


def _install_httpx() -> bool:
    try:
        httpx = importlib.import_module("httpx")
    except ImportError:
        return False
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

    def _record(request: Any) -> _Mode | None:
        mode = _mode.get()
        if mode is not None:
            mode.log.http.append(
                {"client": "httpx", "method": request.method, "url": str(request.url)}
            )
        return mode

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        mode = _record(request)
        if mode is None or mode.passthrough:
            return sync_send(self, request, **kwargs)
        return httpx.Response(200, request=request)

    async def asend(self: Any, request: Any, **kwargs: Any) -> Any:
        mode = _record(request)
        if mode is None or mode.passthrough:
            return await async_send(self, request, **kwargs)
        return httpx.Response(200, request=request)

    httpx.Client.send, httpx.AsyncClient.send = send, asend
    return True


_HOOKS: dict[str, Callable[[], bool]] = {
    "mail": _install_mail,
    "urllib": _install_urllib,
    "requests": _install_requests,
    "httpx": _install_httpx,
}
