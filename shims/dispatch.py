"""``@routed``: one entry point, routed per call to the monolith body or a Celery handler.

The decorated function's own body *is* the monolith path. On every call the wrapper
reads the feature's cached route (``RouteTable.get``: a clock check and a dict lookup)
and, for the common case of a feature in ``monolith`` mode or with no route, calls the
body at once: no signature binding, no key lookup, no event. Everything the other
paths need (signature, encoder, breaker, publisher) is prepared at decoration time or
lazily on first use of that path.

Paths:

* FUNCTION, fire-and-forget: a CloudEvent is published with ``send_task`` and the call
  returns ``None`` at once. Inside an open Django ``transaction.atomic`` the publish is
  deferred with ``transaction.on_commit`` (a rolled-back transaction publishes
  nothing); with ``outbox=True`` the event is written as an outbox row in the caller's
  transaction instead, and a relay publishes it (``shims.outbox``).
* FUNCTION, request/reply: publish, then wait up to ``timeout`` for the handler's
  result. Timeout, handler error, broker down or an open breaker fall back to the
  monolith body when ``fallback=True`` (recorded as ``fallback``), else raise
  :class:`FunctionPathError`.
* SHADOW: the monolith body runs and its answer is returned; its mail and HTTP are
  observed (not prevented). The arguments are encoded on the request path before the
  body runs (a snapshot of what the monolith saw), its result right after it returns
  (before the caller can change it); publishing the shadow event, waiting for the
  candidate and comparing happen on a small bounded background pool, so a slow or
  failing candidate never delays the caller. Mismatches are recorded with both values,
  truncated, in this process (``mismatches``) and, with the next metrics flush, in the
  route store (``strangler route mismatches FEATURE``). Nothing about the shadow (an
  encoding error included) changes the answer.

Arguments that cannot travel as JSON (see ``shims.encoding``) are a bug in the
extraction, surfaced where it cannot hurt: on the FUNCTION path they fall back to the
monolith when ``fallback=True`` (recorded as ``fallback`` and logged once per feature)
and raise :class:`~shims.encoding.UnencodableArgument` (a ``TypeError``) otherwise; in
SHADOW mode they are recorded as a shadow ``error`` and the caller is unaffected.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import os
import queue
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from time import monotonic, perf_counter
from typing import Any, Literal, ParamSpec, TypeVar, cast

from shims import parity
from shims.breaker import BreakerRegistry
from shims.context import routing_key
from shims.effects import EffectLog, observe
from shims.encoding import (
    ArgumentEncoder,
    RemoteError,
    UnencodableArgument,
    decode_exception,
    decode_value,
    encode_value,
    is_error_answer,
)
from shims.events import build_event
from shims.routing import BUCKETS, Mode, Path, decide
from shims.runtime import get_runtime
from shims.stats import Outcome
from shims.stores.base import MismatchSample

__all__ = [
    "BreakerOpen",
    "FunctionPathError",
    "Mismatch",
    "Publisher",
    "Style",
    "breakers",
    "dispatch_only",
    "keep_unpublished",
    "mismatches",
    "publisher",
    "routed",
    "shadow_pool",
]

log = logging.getLogger("shims.dispatch")

P = ParamSpec("P")
R = TypeVar("R")
Style = Literal["fire_and_forget", "request_reply"]
TRUNCATE = 500
KEY_WARN_INTERVAL = 60.0  # seconds between two warnings of one feature's failing key function


class FunctionPathError(RuntimeError):
    """The function path failed and the feature does not allow falling back."""


class BreakerOpen(FunctionPathError):
    """The feature's circuit breaker is open and the feature does not allow fallback."""


# ---------------------------------------------------------------- the decorator


def routed(
    feature: str,
    *,
    task: str,
    style: Style = "fire_and_forget",
    key: Callable[..., str | None] | None = None,
    timeout: float = 5.0,
    fallback: bool = True,
    outbox: bool = False,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Route calls of the decorated entry point by the route of ``feature``.

    ``task`` is the Celery task name of the extracted handler; ``key`` computes the
    routing key from the call's arguments (default: the contextvar set by the Django
    middleware, ``shims.context.current_key``).
    """
    if style not in ("fire_and_forget", "request_reply"):
        raise ValueError(f"style must be 'fire_and_forget' or 'request_reply', got {style!r}")
    if outbox and style != "fire_and_forget":
        raise ValueError("outbox=True needs style='fire_and_forget' (a reply cannot wait)")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(f"{feature}: @routed does not support async functions yet")
        entry = _Entry(feature, task, style, key, timeout, fallback, outbox, func)
        return _hot_path(entry, func)

    return decorate


def _hot_path(entry: _Entry, func: Callable[P, R]) -> Callable[P, R]:
    """The per-call wrapper; everything it touches is bound to a local beforehand."""
    feature = entry.feature
    monolith_mode = Mode.MONOLITH
    monolith_path = Path.MONOLITH
    ok_key = (feature, monolith_path, Outcome.OK)  # built once: Metrics.add takes them as-is
    error_key = (feature, monolith_path, Outcome.ERROR)
    runtime = get_runtime
    clock = perf_counter
    divert = entry.divert

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        rt = runtime()
        route = rt.table.get(feature)
        if route is None or route.mode is monolith_mode:
            start = clock()
            try:
                result = func(*args, **kwargs)
            except BaseException:
                rt.metrics.add(error_key, clock() - start)
                raise
            rt.metrics.add(ok_key, clock() - start)
            return result
        return cast(R, divert(rt, route, args, kwargs))

    wrapper.__strangler_entry__ = entry  # type: ignore[attr-defined]
    return wrapper


@dataclass
class _Entry:
    """One decorated entry point: its options and what its non-monolith paths need."""

    feature: str
    task: str
    style: Style
    key: Callable[..., str | None] | None
    timeout: float
    fallback: bool
    outbox: bool
    func: Callable[..., Any]
    encoder: ArgumentEncoder = field(init=False)
    _warned: bool = field(default=False, init=False)
    _key_warned_at: float = field(default=-math.inf, init=False)

    def __post_init__(self) -> None:
        self.encoder = ArgumentEncoder(self.func, self.feature)

    # -- dispatch

    def divert(self, rt: Any, route: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if route.mode is Mode.CANARY and 0 < route.percent < BUCKETS:
            # The only case a routing key decides anything in: at 0% and 100% the key
            # function is not called, so one that raises cannot keep a call off the side
            # every call belongs on.
            try:
                key = self.key(*args, **kwargs) if self.key is not None else routing_key.get()
            except Exception as exc:
                self._warn_key_failed(exc)
                return self.monolith(rt, args, kwargs)
            path = decide(route, key)
        else:
            path = decide(route, None)
        if path is Path.MONOLITH:
            return self.monolith(rt, args, kwargs)
        if path is Path.SHADOW:
            return self.shadow(rt, args, kwargs)
        return self.function(rt, args, kwargs)

    def monolith(self, rt: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        start = perf_counter()
        try:
            result = self.func(*args, **kwargs)
        except BaseException:
            rt.metrics.record(self.feature, Path.MONOLITH, Outcome.ERROR, perf_counter() - start)
            raise
        rt.metrics.record(self.feature, Path.MONOLITH, Outcome.OK, perf_counter() - start)
        return result

    # -- function path

    def function(self, rt: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        start = perf_counter()
        try:
            data = self.encoder.encode(args, kwargs)
        except UnencodableArgument as exc:
            self._warn_unencodable(exc)
            return self._fail(rt, args, kwargs, start, Outcome.ERROR, exc)
        breaker = breakers.get(self.feature)
        if not breaker.allow():
            return self._fail(rt, args, kwargs, start, Outcome.ERROR, BreakerOpen(self.feature))
        if parity.active():
            return self._parity(rt, data, args, kwargs, start)
        event = build_event(self.feature, data, reply=self.style == "request_reply")
        if self.style == "request_reply":
            return self._await(rt, event, args, kwargs, start, self.timeout)
        if self.outbox:
            return self._to_outbox(rt, event, args, kwargs, start)
        if _in_atomic_block():
            # Recorded when it fires: a rolled-back transaction made no call at all.
            _on_commit(lambda: self._fire_after_commit(rt, event, args, kwargs))
            return None
        return self._fire(rt, event, args, kwargs, start, deferred=False)

    def _fire_after_commit(
        self, rt: Any, event: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """The ``on_commit`` callback: never raises (the caller's commit already happened)."""
        try:
            self._fire(rt, event, args, kwargs, perf_counter(), deferred=True)
        except Exception:
            log.exception("%s: publish after commit crashed (event %s)", self.feature, event["id"])

    def _fire(
        self,
        rt: Any,
        event: dict[str, Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        start: float,
        *,
        deferred: bool,
    ) -> None:
        breaker = breakers.get(self.feature)
        try:
            publisher.publish(rt.settings, self.task, event, ignore_result=True)
        except Exception as exc:
            breaker.record_failure()
            if deferred:  # after commit: nobody to raise to; never half-run the monolith
                return self._deferred_failure(rt, event, args, kwargs, start, exc)
            return cast(None, self._fail(rt, args, kwargs, start, Outcome.ERROR, exc))
        breaker.record_success()
        rt.metrics.record(self.feature, Path.FUNCTION, Outcome.OK, perf_counter() - start)
        return None

    def _deferred_failure(
        self,
        rt: Any,
        event: dict[str, Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        start: float,
        exc: Exception,
    ) -> None:
        """After commit the caller saw success: run the body (fallback) or keep the event."""
        if self.fallback:
            log.error("%s: publish after commit failed (%s)", self.feature, _describe(exc))
            try:
                self.func(*args, **kwargs)
            except Exception:
                log.exception("%s: monolith fallback after commit failed", self.feature)
            rt.metrics.record(self.feature, Path.FUNCTION, Outcome.FALLBACK, perf_counter() - start)
        else:
            keep_unpublished(self.feature, self.task, event, exc)
            rt.metrics.record(self.feature, Path.FUNCTION, Outcome.ERROR, perf_counter() - start)

    def _to_outbox(
        self,
        rt: Any,
        event: dict[str, Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        start: float,
    ) -> None:
        from shims.outbox import write_outbox  # Django is needed only by outbox features

        write_outbox(self.task, event)
        breakers.get(self.feature).record_success()
        rt.metrics.record(self.feature, Path.FUNCTION, Outcome.OK, perf_counter() - start)

    def _await(
        self,
        rt: Any,
        event: dict[str, Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        start: float,
        timeout: float,
    ) -> Any:
        """Publish and wait for the answer: request/reply, and any call under parity.

        A failure falls back (or raises) as the feature says, except a fire-and-forget
        handler failing after its event was published (parity only): in production the
        caller would never know, in a test it must, so it raises.
        """
        breaker = breakers.get(self.feature)
        published = False
        try:
            pending = publisher.publish(rt.settings, self.task, event, expires=timeout)
            published = True
            reply = publisher.wait(pending, timeout)
        except Exception as exc:
            breaker.record_failure()
            outcome = Outcome.TIMEOUT if _is_timeout(exc) else Outcome.ERROR
            if not published or self.style == "request_reply":
                return self._fail(rt, args, kwargs, start, outcome, exc)
            rt.metrics.record(self.feature, Path.FUNCTION, outcome, perf_counter() - start)
            parity.report.fail(self.feature, _describe(exc))
            raise FunctionPathError(
                f"{self.feature}: the handler failed in the worker: {_describe(exc)}"
            ) from exc
        # Decoded outside the try: a reply came, so the handler ran; a reply this process
        # cannot read is a RemoteError (in ``_answer``), never a reason to run the body too.
        return self._answered(rt, _answer(reply, self.func.__module__), start)

    def _answered(self, rt: Any, value: Any, start: float) -> Any:
        """A reply came: return it, or raise the exception the handler answered with.

        The breaker counts either as a working function path; the metrics count a raised
        answer as ``error``, as the monolith path counts an exception of its body.
        """
        breakers.get(self.feature).record_success()
        if parity.active():
            parity.report.answer(self.feature)
        if isinstance(value, _Raised):
            rt.metrics.record(self.feature, Path.FUNCTION, Outcome.ERROR, perf_counter() - start)
            raise value.exc
        rt.metrics.record(self.feature, Path.FUNCTION, Outcome.OK, perf_counter() - start)
        return value

    def _parity(
        self,
        rt: Any,
        data: dict[str, Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        start: float,
    ) -> Any:
        """The function path under parity testing (``shims.parity``): the call waits.

        Publishing keeps its production rules (after commit inside ``atomic``; fallback
        when the broker refuses, if the feature allows it). The difference is that a
        fire-and-forget call waits for its handler and returns its result, and the
        handler's mail lands in this process's outbox. A fire-and-forget handler that
        fails raises :class:`FunctionPathError` instead of vanishing into the dead-letter
        store: in production the caller would never know, in a test it must.
        """
        reply = self.style == "request_reply"
        event = build_event(self.feature, data, reply=reply, parity=parity.attribute())
        if not reply and _in_atomic_block():
            wait = max(self.timeout, parity.timeout())
            _on_commit(
                _raising_after_commit(
                    lambda: self._await(rt, event, args, kwargs, perf_counter(), wait)
                )
            )
            return None
        return self._await(rt, event, args, kwargs, start, max(self.timeout, parity.timeout()))

    def _fail(
        self,
        rt: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        start: float,
        outcome: str,
        exc: Exception,
    ) -> Any:
        """Fall back to the monolith body (recorded ``fallback``) or raise."""
        if parity.active():
            record = parity.report.fallback if self.fallback else parity.report.fail
            record(self.feature, _describe(exc))
        if self.fallback:
            log.debug("%s: falling back to the monolith (%s)", self.feature, _describe(exc))
            try:
                return self.func(*args, **kwargs)
            finally:
                rt.metrics.record(
                    self.feature, Path.FUNCTION, Outcome.FALLBACK, perf_counter() - start
                )
        rt.metrics.record(self.feature, Path.FUNCTION, outcome, perf_counter() - start)
        if isinstance(exc, UnencodableArgument | FunctionPathError):
            raise exc
        raise FunctionPathError(f"{self.feature}: function path failed: {_describe(exc)}") from exc

    def _warn_key_failed(self, exc: Exception) -> None:
        """A routing-key function that raises sends the call to the monolith; say so, rarely.

        Shim code degrades and never fails the request. Routing as with no key would be
        random per call, so such a call could reach the function with arguments the key
        function could not read; the monolith is the safe side. Logged at most once per
        ``KEY_WARN_INTERVAL`` seconds per feature: the failing call may be a hot one.
        """
        now = monotonic()
        if now - self._key_warned_at >= KEY_WARN_INTERVAL:
            self._key_warned_at = now
            log.warning(
                "%s: the routing-key function raised %s; such calls go to the monolith",
                self.feature,
                _describe(exc),
            )

    def _warn_unencodable(self, exc: UnencodableArgument) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s", exc)

    # -- shadow path

    def shadow(self, rt: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        arguments = self._snapshot(args, kwargs)  # before the body can change them
        start = perf_counter()
        with observe() as effects:
            try:
                result = self.func(*args, **kwargs)
            except BaseException:
                elapsed = perf_counter() - start
                rt.metrics.record(self.feature, Path.MONOLITH, Outcome.ERROR, elapsed)
                raise
        elapsed = perf_counter() - start
        rt.metrics.record(self.feature, Path.MONOLITH, Outcome.OK, elapsed)
        self._submit_shadow(rt, arguments, result, effects)
        return result

    def _snapshot(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> dict[str, Any] | Exception:
        """The arguments' JSON form as the monolith body is about to see them, or the error.

        Encoded on the request path, before the body runs: a body that appends to
        ``cart["items"]`` or deletes the instance it was given (its pk becomes None) must
        not change what the candidate receives. Never raises: the body runs regardless.
        """
        try:
            return self.encoder.encode(args, kwargs)
        except Exception as exc:
            return exc

    def _submit_shadow(
        self, rt: Any, arguments: dict[str, Any] | Exception, result: Any, effects: EffectLog
    ) -> None:
        """Encode the result right away (the caller may change it) and queue the comparison.

        Never raises: the monolith already answered, and nothing about the shadow may
        change that answer. What cannot be encoded is counted as a shadow ``error``.
        """
        if isinstance(arguments, Exception):
            self._shadow_skipped(rt, arguments)
            return
        try:
            shadow_pool.submit(_ShadowJob(self, rt, arguments, _expected(result), effects))
        except Exception as exc:
            self._shadow_skipped(rt, exc)

    def _shadow_skipped(self, rt: Any, exc: Exception) -> None:
        if isinstance(exc, UnencodableArgument):
            self._warn_unencodable(exc)
        else:
            log.info("%s: shadow call skipped (%s)", self.feature, _describe(exc))
        rt.metrics.record(self.feature, Path.SHADOW, Outcome.ERROR, 0.0)


# ---------------------------------------------------------------- retired features


def dispatch_only(
    feature: str,
    *,
    task: str,
    style: Style = "fire_and_forget",
    timeout: float = 5.0,
    outbox: bool = False,
    arguments: Mapping[str, Any],
) -> Any:
    """The function path with no monolith left: what ``strangler retire`` writes.

    No route lookup and no fallback (there is nothing to fall back to): arguments are
    encoded (``UnencodableArgument`` on bad input), fire-and-forget publishes (on commit
    inside ``transaction.atomic``, or to the outbox), request/reply waits ``timeout`` and
    raises :class:`FunctionPathError` on any failure. Counted like the function path.
    """
    rt = get_runtime()
    start = perf_counter()
    home = sys._getframe(1).f_globals.get("__name__")  # the retired entry point's module
    data = {name: encode_value(value, f"{feature}: argument {name!r}") for name, value in
            arguments.items()}  # fmt: skip
    if parity.active():
        return _parity_only(rt, feature, task, style, timeout, data, start, home)
    event = build_event(feature, data, reply=style == "request_reply")
    try:
        if style == "request_reply":
            pending = publisher.publish(rt.settings, task, event, expires=timeout)
            value = _answer(publisher.wait(pending, timeout), home)
        elif outbox:
            from shims.outbox import write_outbox

            write_outbox(task, event)
            value = None
        elif _in_atomic_block():
            # Counted when it fires; a failure after the commit keeps the event.
            _on_commit(lambda: _publish_after_commit(rt, feature, task, event))
            return None
        else:
            publisher.publish(rt.settings, task, event, ignore_result=True)
            value = None
    except Exception as exc:
        outcome = Outcome.TIMEOUT if _is_timeout(exc) else Outcome.ERROR
        rt.metrics.record(feature, Path.FUNCTION, outcome, perf_counter() - start)
        raise FunctionPathError(f"{feature}: function path failed: {_describe(exc)}") from exc
    return _only_answered(rt, feature, value, start)


def _only_answered(rt: Any, feature: str, value: Any, start: float) -> Any:
    if parity.active():
        parity.report.answer(feature)
    if isinstance(value, _Raised):
        rt.metrics.record(feature, Path.FUNCTION, Outcome.ERROR, perf_counter() - start)
        raise value.exc
    rt.metrics.record(feature, Path.FUNCTION, Outcome.OK, perf_counter() - start)
    return value


@dataclass(frozen=True, slots=True)
class _Raised:
    """A reply that is the handler's exception, rebuilt (``shims.encoding``)."""

    exc: Exception


def _answer(reply: Any, home: str | None) -> Any:
    """A reply as the caller sees it: the value, or :class:`_Raised` for an exception.

    A parity reply (``shims.parity``) is unwrapped first, an error answer included: the
    mail the handler sent before raising is in ``mail.outbox`` before the exception is
    raised, as it would be after the monolith body raised. An exception whose type is not
    loaded here, not the monolith's own or a builtin (``home``: the entry point's module,
    see :func:`~shims.encoding.decode_exception`), or cannot be rebuilt, and a value that
    cannot be decoded here (a model row not yet on this replica, a malformed tagged
    value) are raised as :class:`~shims.encoding.RemoteError`: the handler already ran,
    so falling back to the monolith body would do its work twice. Never raises.
    """
    try:
        if parity.active() and not is_error_answer(reply):
            reply = parity.unwrap(reply)  # mail delivered; the result decoded, or an error
            if not is_error_answer(reply):
                return reply
        if is_error_answer(reply):
            return _Raised(decode_exception(reply, home))
        return decode_value(reply)
    except RemoteError as exc:  # the handler ran: never run the body again (fallback)
        return _Raised(exc)
    except Exception as exc:  # e.g. a model row not on this replica yet, a bad "$decimal"
        return _Raised(_unreadable(reply, exc))


def _unreadable(reply: Any, exc: Exception) -> RemoteError:
    """The handler answered but its reply cannot be decoded here: raised, not fallen back.

    The handler's work is done; running the monolith body as well would do it twice.
    """
    # what failed, not the reply itself: it may hold data (a token, a customer's
    # details) that this message would carry into logs and error trackers
    error = RemoteError(
        f"the handler answered, but its reply cannot be read here: {_describe(exc)}"
    )
    error.__cause__ = exc
    return error


def _parity_only(
    rt: Any,
    feature: str,
    task: str,
    style: Style,
    timeout: float,
    data: dict[str, Any],
    start: float,
    home: str | None,
) -> Any:
    """``dispatch_only`` under parity testing: publish, wait, and raise on any failure.

    Fire-and-forget inside ``atomic`` still publishes after the commit: the worker could
    not see the caller's rows before it.
    """
    reply = style == "request_reply"
    event = build_event(feature, data, reply=reply, parity=parity.attribute())
    if not reply and _in_atomic_block():
        _on_commit(
            _raising_after_commit(
                lambda: _parity_wait(rt, feature, task, timeout, event, perf_counter(), home)
            )
        )
        return None
    return _parity_wait(rt, feature, task, timeout, event, start, home)


AFTER_COMMIT_NOTE = (
    "parity: raised from a transaction.on_commit callback, after the transaction committed; "
    "the on_commit callbacks registered after this one did not run"
)


def _raising_after_commit(call: Callable[[], Any]) -> Callable[[], None]:
    """A parity ``on_commit`` callback that lets the handler's failure reach the test.

    Unlike production (where nothing is raised after a commit), the failure is raised
    from the callback, so Django raises it from the ``atomic`` exit *after* the commit
    and skips the transaction's later ``on_commit`` callbacks; the note says so, since
    the traceback alone points at the end of the ``with`` block.
    """

    def callback() -> None:
        try:
            call()
        except Exception as exc:
            exc.add_note(AFTER_COMMIT_NOTE)
            raise

    return callback


def _parity_wait(
    rt: Any,
    feature: str,
    task: str,
    timeout: float,
    event: dict[str, Any],
    start: float,
    home: str | None,
) -> Any:
    wait = max(timeout, parity.timeout())
    try:
        pending = publisher.publish(rt.settings, task, event, expires=wait)
        value = _answer(publisher.wait(pending, wait), home)
    except Exception as exc:
        outcome = Outcome.TIMEOUT if _is_timeout(exc) else Outcome.ERROR
        rt.metrics.record(feature, Path.FUNCTION, outcome, perf_counter() - start)
        parity.report.fail(feature, _describe(exc))
        raise FunctionPathError(f"{feature}: function path failed: {_describe(exc)}") from exc
    return _only_answered(rt, feature, value, start)


def _publish_after_commit(rt: Any, feature: str, task: str, event: dict[str, Any]) -> None:
    """``dispatch_only``'s ``on_commit`` callback: publish, or keep the event; never raise.

    Raising from an ``on_commit`` callback would surface from the ``atomic`` exit *after*
    the commit, telling the caller its change failed when it did not.
    """
    start = perf_counter()
    try:
        try:
            publisher.publish(rt.settings, task, event, ignore_result=True)
        except Exception as exc:
            keep_unpublished(feature, task, event, exc)
            rt.metrics.record(feature, Path.FUNCTION, Outcome.ERROR, perf_counter() - start)
            return
        rt.metrics.record(feature, Path.FUNCTION, Outcome.OK, perf_counter() - start)
    except Exception:
        log.exception("%s: publish after commit crashed (event %s)", feature, event["id"])


def keep_unpublished(feature: str, task: str, event: dict[str, Any], exc: BaseException) -> str:
    """Store an event whose publish failed after its transaction committed; never raises.

    The shim accepted the event (the caller saw success), so it must not be lost: it goes
    to the outbox table when the ``shims.django`` app is installed (the relay publishes it
    once the broker is back), else - or if that write fails - to the dead-letter store with
    reason ``publish failed`` (``strangler dlq replay`` sends it). Returns where it went:
    ``"outbox"``, ``"dead-letter"``, or ``"log"`` when both failed (the event is then
    logged in full at CRITICAL, the last place left to recover it from).
    """
    error = _describe(exc)
    if _outbox_installed():
        try:
            from shims.outbox import write_outbox

            write_outbox(task, event)
        except Exception as store_exc:
            log.error("%s: outbox write failed (%s)", feature, _describe(store_exc))
        else:
            log.error("%s: publish after commit failed (%s); event %s kept in the outbox",
                      feature, error, event["id"])  # fmt: skip
            return "outbox"
    try:
        entry_id = _dead_letter(task, event, error)
    except Exception as store_exc:
        log.critical("%s: publish failed (%s) and the dead-letter store too (%s); event: %s",
                     feature, error, _describe(store_exc), json.dumps(event))  # fmt: skip
        return "log"
    log.error("%s: publish after commit failed (%s); event %s dead-lettered as #%s",
              feature, error, event["id"], entry_id)  # fmt: skip
    return "dead-letter"


def _outbox_installed() -> bool:
    """True when this process runs Django with the ``shims.django`` app (the outbox table)."""
    if "django.apps" not in sys.modules:
        return False
    from django.apps import apps

    return bool(apps.ready and apps.is_installed("shims.django"))


def _dead_letter(task: str, event: dict[str, Any], error: str) -> int:
    from shims.deadletter import open_dead_letters
    from shims.handlers import dead_letter_url

    store = open_dead_letters(dead_letter_url())
    try:
        return store.add(task, event, "publish failed", 0, error).id
    finally:
        store.close()


# ---------------------------------------------------------------- publishing


class Publisher:
    """Sends events with a Celery app built from the runtime settings (one per config).

    ``use_app`` installs an application's own Celery app instead (it is checked to be
    JSON-only, like every app the shim publishes with).
    """

    def __init__(self) -> None:
        self._apps: dict[tuple[str, str, str], Any] = {}
        self._override: Any = None
        self._lock = threading.Lock()

    def use_app(self, app: Any) -> None:
        from shims.celery import ensure_json_only

        self._override = None if app is None else ensure_json_only(app)

    def app_for(self, settings: Any) -> Any:
        if self._override is not None:
            return self._override
        key = (settings.broker_url, settings.result_backend, settings.broker_folder)
        app = self._apps.get(key)
        if app is None:
            with self._lock:
                app = self._apps.get(key)
                if app is None:
                    from shims.celery import build_app

                    app = self._apps[key] = build_app(settings)
        return app

    def publish(
        self,
        settings: Any,
        task: str,
        event: dict[str, Any],
        *,
        ignore_result: bool = False,
        expires: float | None = None,
    ) -> Any:
        """Send ``event`` to ``task``; ``ignore_result`` for fire-and-forget.

        Fire-and-forget must depend on the broker only: without ``ignore_result`` Celery
        prepares the result backend for every send (a Redis backend subscribes to the
        task's channel), so a dead result backend would fail a call that never reads it.

        ``expires`` (seconds from now) is for a caller that waits: past its wait the caller
        has fallen back to the monolith (or raised), so a worker that picks the event up
        later must discard it (Celery revokes an expired task; RabbitMQ drops the message)
        rather than do the work a second time. Fire-and-forget events never expire.
        """
        from shims.celery import PublishConfig

        options: dict[str, Any] = {} if expires is None else {"expires": expires}
        # A short argsrepr (what Flower and worker logs show) instead of Celery's
        # saferepr of the whole event, which costs more than the rest of the publish.
        return self.app_for(settings).send_task(
            task,
            args=[event],
            task_id=event["id"],
            argsrepr=f"[<event {event.get('type')} {event['id']}>]",
            kwargsrepr="{}",
            retry=True,
            retry_policy=PublishConfig.retry_policy,
            ignore_result=ignore_result,
            **options,
        )

    def wait(self, pending: Any, timeout: float) -> Any:
        try:
            return pending.get(timeout=timeout, interval=0.02, disable_sync_subtasks=False)
        finally:
            _release(pending)

    def reset(self) -> None:
        """Close and forget the cached apps (tests, or after a settings change)."""
        with self._lock:
            apps, self._apps = list(self._apps.values()), {}
        from shims.celery import close_app

        for app in apps:
            close_app(app)


def _release(pending: Any) -> None:
    """Stop listening for ``pending``'s result now, while we know the backend's state.

    Left to ``AsyncResult.__del__``, the unsubscribe runs whenever the garbage collector
    gets to it — possibly long after the result backend went away — and its error
    surfaces in the host process as an "Exception ignored in __del__". A reply that is
    no longer awaited (answered, timed out, or fallen back) needs no subscription.
    """
    backend = getattr(pending, "backend", None)
    if backend is None:
        return
    try:
        backend.remove_pending_result(pending)
    except Exception as exc:  # the backend is down: nothing left to unsubscribe from
        log.debug("releasing a pending result failed: %s", _describe(exc))
    pending.backend = None  # __del__ has nothing left to do


def _is_timeout(exc: BaseException) -> bool:
    from celery.exceptions import TimeoutError as CeleryTimeout

    return isinstance(exc, CeleryTimeout | TimeoutError)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _in_atomic_block() -> bool:
    """True inside an open ``transaction.atomic`` of the default database.

    Django is consulted only if the process already imported and configured it.
    """
    if "django.db" not in sys.modules:
        return False
    from django.conf import settings

    if not settings.configured:
        return False
    from django.db import transaction

    return bool(transaction.get_connection().in_atomic_block)


def _on_commit(callback: Callable[[], None]) -> None:
    from django.db import transaction

    transaction.on_commit(callback)


# ---------------------------------------------------------------- shadow comparison


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One shadow call whose candidate disagreed with the monolith (values truncated)."""

    feature: str
    event_id: str
    at: datetime
    field: str
    monolith: str
    function: str

    def to_dict(self) -> dict[str, str]:
        return {**asdict(self), "at": self.at.isoformat()}

    def sample(self) -> MismatchSample:
        """This mismatch as the route store keeps it, naming this process (``host:pid``)."""
        process = f"{socket.gethostname()}:{os.getpid()}"
        return MismatchSample(
            self.feature, self.event_id, self.at, self.field, self.monolith, self.function, process
        )


class MismatchLog:
    """The last ``maxlen`` mismatches of this process, newest last; also logged."""

    def __init__(self, maxlen: int = 1000) -> None:
        self._items: deque[Mismatch] = deque(maxlen=maxlen)

    def add(self, item: Mismatch) -> None:
        self._items.append(item)
        log.warning(
            "shadow mismatch %s (%s) event %s: monolith=%s function=%s",
            item.feature,
            item.field,
            item.event_id,
            item.monolith,
            item.function,
        )

    def list(self, feature: str | None = None) -> list[Mismatch]:
        return [m for m in self._items if feature is None or m.feature == feature]

    def clear(self) -> None:
        self._items.clear()


def _truncate(value: Any, limit: int = TRUNCATE) -> str:
    try:
        text = json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expected(result: Any) -> Any:
    """The monolith's result in JSON form, compared with the candidate's.

    A result that does not encode is compared as its ``repr`` (and so is a mismatch).
    """
    try:
        return encode_value(result, "result")
    except UnencodableArgument:
        return repr(result)


@dataclass(frozen=True, slots=True)
class _ShadowJob:
    """One shadow comparison; everything in it was encoded on the request path."""

    entry: _Entry
    rt: Any
    data: dict[str, Any]
    expected: Any
    monolith_effects: EffectLog

    def run(self) -> None:
        feature = self.entry.feature
        start = perf_counter()
        try:
            event = build_event(feature, self.data, shadow=True)
            timeout = self.entry.timeout
            pending = publisher.publish(self.rt.settings, self.entry.task, event, expires=timeout)
            reply = publisher.wait(pending, timeout)
        except Exception as exc:
            outcome = Outcome.TIMEOUT if _is_timeout(exc) else Outcome.ERROR
            log.info("%s: shadow candidate failed (%s)", feature, _describe(exc))
            self.rt.metrics.record(feature, Path.SHADOW, outcome, perf_counter() - start)
            return
        seconds = perf_counter() - start
        found = self.compare(event["id"], reply)
        for item in found:
            mismatches.add(item)
            self.rt.metrics.add_mismatch(item.sample())  # sent with the next metrics flush
        outcome = Outcome.MISMATCH if found else Outcome.MATCH
        self.rt.metrics.record(feature, Path.SHADOW, outcome, seconds)

    def compare(self, event_id: str, reply: Any) -> list[Mismatch]:
        now = datetime.now(UTC)
        feature = self.entry.feature
        if not isinstance(reply, dict) or "result" not in reply:
            return [Mismatch(feature, event_id, now, "reply", "", _truncate(reply))]
        expected = self.expected
        found: list[Mismatch] = []
        if expected != reply["result"]:
            found.append(
                Mismatch(
                    feature,
                    event_id,
                    now,
                    "result",
                    _truncate(expected),
                    _truncate(reply["result"]),
                )
            )
        mail = _sorted_mail(self.monolith_effects.mail)
        candidate_mail = _sorted_mail((reply.get("effects") or {}).get("mail", []))
        if mail != candidate_mail:
            found.append(
                Mismatch(feature, event_id, now, "mail", _truncate(mail), _truncate(candidate_mail))
            )
        return found


def _sorted_mail(items: Any) -> list[Any]:
    return sorted(items, key=lambda m: json.dumps(m, sort_keys=True))


class ShadowPool:
    """A small bounded queue and daemon threads that run shadow comparisons.

    Why hand-written rather than ``ThreadPoolExecutor``: its queue is unbounded and its
    ``submit`` builds a Future under a lock; here ``submit`` is one C-level
    ``SimpleQueue.put`` and a counter (under an uncontended lock), and a slow candidate
    costs memory only up to ``maxsize`` queued jobs, after which shadow
    calls are dropped (recorded as ``dropped``), never the request path. Restarts its
    threads after a fork (pre-forking servers import the monolith before forking).
    """

    def __init__(self, threads: int = 2, maxsize: int = 1000) -> None:
        self.threads = threads
        self.maxsize = maxsize
        self._queue: queue.SimpleQueue[_ShadowJob | None] = queue.SimpleQueue()
        self._pid = -1
        self._lock = threading.Lock()
        self._outstanding = 0  # queued or running
        self.dropped = 0

    def submit(self, job: _ShadowJob) -> None:
        if self._pid != os.getpid():
            self._start()
        with self._lock:  # the workers decrement under it: an unlocked += loses updates
            full = self._outstanding >= self.maxsize
            if full:
                self.dropped += 1
            else:
                self._outstanding += 1
        if full:
            job.rt.metrics.record(job.entry.feature, Path.SHADOW, "dropped", 0.0)
            return
        self._queue.put(job)

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted job has run (tests, benchmarks, shutdown)."""
        deadline = perf_counter() + timeout
        while self._outstanding > 0:
            if perf_counter() > deadline:
                return False
            threading.Event().wait(0.01)
        return True

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._queue = queue.SimpleQueue()
            self._outstanding = 0
            for i in range(self.threads):
                name = f"strangler-shadow-{i}"
                threading.Thread(target=self._loop, name=name, daemon=True).start()
            self._pid = os.getpid()

    def _loop(self) -> None:
        jobs = self._queue
        while True:
            job = jobs.get()
            if job is None:
                return
            try:
                job.run()
            except Exception:
                log.exception("shadow comparison crashed")
            finally:
                with self._lock:
                    self._outstanding -= 1


breakers = BreakerRegistry()
publisher = Publisher()
mismatches = MismatchLog()
shadow_pool = ShadowPool()
