"""The handler side: ``@handler`` turns a plain ``handle(event) -> result`` into a Celery task.

What the base gives every extracted handler, so that the handler itself stays a small
stateless function:

* JSON-only app (``ensure_json_only``), ``acks_late`` and ``reject_on_worker_lost``:
  a worker killed mid-task leaves the message on the broker to be redelivered.
* Validation before anything runs: a CloudEvents 1.0 envelope, JSON data, the JSON
  schema when one is given, a size limit. An invalid event is dead-lettered with the
  reason and never executed.
* Idempotency by event id (``shims.dedupe``): the effect happens once however many
  times the event is delivered; a duplicate of a finished event returns the stored
  result; a duplicate that arrives while another worker holds the claim is retried
  later, and if that worker died, its lease expires and the retry runs the event. A
  result that is not JSON still marks the event done (with an error answer): the work
  was done and must not be repeated.
* Retries with exponential backoff and full jitter for the declared ``transient``
  exceptions, up to ``max_retries``; then, or at once for any other exception, the
  event goes to the dead-letter store (``shims.deadletter``) and the task fails with
  :class:`DeadLettered` (a request/reply caller falls back instead of waiting).
  Except for a request/reply event (``stranglerreply``) whose handler raises: the
  exception is the call's answer (``shims.encoding.encode_exception``), returned and
  raised again in the caller, as an RPC would; replaying it later from the dead-letter
  store would answer nobody. One out of retries fails with :class:`RetriesExhausted`
  and is not dead-lettered either: its caller falls back to the monolith body, which
  a replay would repeat.
* A request/reply event past its caller's deadline (Celery ``expires``, or due to be
  retried after it) is neither run nor retried nor dead-lettered: the caller has fallen
  back to the monolith body, which did the work.
* Confirmations for the outbox relay (``shims.confirm``): an event that asks for one
  (``stranglerconfirm: true``, set by the relay) is confirmed ``done`` once handled (or
  seen again after) and ``dead`` once dead-lettered, so the relay can publish again an
  event the broker lost after accepting it.
* Shadow events (``stranglershadow: true``) run under ``shims.effects.capture``: mail
  recorded not sent, HTTP recorded not sent, database writes rolled back. They skip
  dedupe, retries and the dead-letter store, and return ``{"result", "effects"}`` for
  the shim to compare.
* Parity events (``stranglerparity``, ``shims.parity``): the monolith's test suite run
  against the function path. Only a worker started with ``STRANGLER_PARITY_WORKER=1``
  runs them (with the test's settings overrides, reply carrying the mail sent, an
  exception answered to a request/reply caller included); any other worker dead-letters
  them. A test is waiting for each of them, so their transient errors are retried at
  once, without backoff (``max_retries`` still bounds them): the test sees the handler's
  real outcome in milliseconds instead of timing out behind a production backoff.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, TypeVar

from shims import parity
from shims.confirm import ConfirmationStore, Outcome, open_confirmations, wants_confirmation
from shims.deadletter import DeadLetterStore, open_dead_letters
from shims.dedupe import ClaimState, DedupeStore, open_dedupe
from shims.effects import capture
from shims.encoding import RemoteError, encode_exception
from shims.events import MAX_EVENT_BYTES, Event, InvalidEvent, parse_event, use_traceparent

__all__ = [
    "DEFAULT_STATE_URL",
    "DeadLettered",
    "HandlerSpec",
    "RetriesExhausted",
    "backoff",
    "dead_letter_url",
    "dedupe_url",
    "handler",
]

log = logging.getLogger("shims.handlers")

DEFAULT_STATE_URL = "sqlite:///.strangler/handlers.db"
REQUEUE_PAUSE = 1.0  # seconds a delivery waits before requeueing during a store outage
T = TypeVar("T")


class DeadLettered(RuntimeError):
    """The event was put in the dead-letter store; the task fails with this."""


class RetriesExhausted(RuntimeError):
    """A request/reply event's transient errors outlasted its retries; the task fails
    with this and its caller falls back (or raises). Nothing is dead-lettered."""


def _state_url(env_name: str) -> str:
    explicit = os.environ.get(env_name)
    if explicit:
        return explicit
    from shims.config import load_settings

    route_store = load_settings().route_store_url
    if not route_store.startswith(("redis://", "rediss://")):
        return DEFAULT_STATE_URL
    return route_store  # its ``?prefix=`` too: the state keys live beside the routes


def dedupe_url() -> str:
    """``STRANGLER_DEDUPE_URL``, else the route store if it is Redis, else local SQLite."""
    return _state_url("STRANGLER_DEDUPE_URL")


def dead_letter_url() -> str:
    """``STRANGLER_DLQ_URL``, else the route store if it is Redis, else local SQLite."""
    return _state_url("STRANGLER_DLQ_URL")


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before retry ``attempt`` (0-based): full jitter over ``base * 2**attempt``.

    Hand-written because Celery's ``get_exponential_backoff_interval`` counts whole
    seconds, too coarse for sub-second bases (and tests).
    """
    return random.uniform(0, min(cap, base * (2**attempt)))


@dataclass(frozen=True)
class HandlerSpec:
    """A handler's options, fixed at registration."""

    name: str
    schema: Mapping[str, Any] | None
    transient: tuple[type[BaseException], ...]
    max_retries: int
    backoff_base: float
    backoff_max: float
    lease: float
    done_ttl: float
    max_bytes: int
    dedupe_url: str | None
    dead_letter_url: str | None


class _State:
    """The stores a handler uses, opened on first use inside the worker process."""

    def __init__(self, spec: HandlerSpec) -> None:
        self.spec = spec
        self._dedupe: DedupeStore | None = None
        self._dead: DeadLetterStore | None = None
        self._confirmations: ConfirmationStore | None = None

    @property
    def dedupe(self) -> DedupeStore:
        if self._dedupe is None:
            self._dedupe = open_dedupe(self.spec.dedupe_url or dedupe_url())
        return self._dedupe

    @property
    def dead_letters(self) -> DeadLetterStore:
        if self._dead is None:
            self._dead = open_dead_letters(self.spec.dead_letter_url or dead_letter_url())
        return self._dead

    @property
    def confirmations(self) -> ConfirmationStore:
        """Kept where the dedupe records are: the store the outbox relay reads too."""
        if self._confirmations is None:
            self._confirmations = open_confirmations(self.spec.dedupe_url or dedupe_url())
        return self._confirmations


def handler(
    app: Any,
    name: str,
    *,
    schema: Mapping[str, Any] | None = None,
    transient: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError),
    max_retries: int = 5,
    backoff_base: float = 1.0,
    backoff_max: float = 300.0,
    lease: float = 300.0,
    done_ttl: float = 7 * 24 * 3600.0,
    max_bytes: int = MAX_EVENT_BYTES,
    dedupe_url: str | None = None,
    dead_letter_url: str | None = None,
) -> Callable[[Callable[[Event], Any]], Any]:
    """Register ``handle(event) -> result`` on ``app`` as the Celery task ``name``.

    ``lease`` must exceed the handler's longest run: it is how long a claim protects a
    running event before another delivery may take it over.
    """
    from shims.celery import ensure_json_only

    ensure_json_only(app)
    if max_retries < 0 or backoff_base < 0 or lease <= 0:
        raise ValueError("max_retries and backoff_base must be >= 0, lease > 0")
    spec = HandlerSpec(
        name,
        schema,
        tuple(transient),
        max_retries,
        backoff_base,
        backoff_max,
        lease,
        done_ttl,
        max_bytes,
        dedupe_url,
        dead_letter_url,
    )

    def register(handle: Callable[[Event], Any]) -> Any:
        state = _State(spec)

        @app.task(  # type: ignore[untyped-decorator]
            name=name,
            bind=True,
            acks_late=True,
            reject_on_worker_lost=True,
            max_retries=None,
            serializer="json",
        )
        def task(self: Any, event: Any = None, strangler_waits: int = 0) -> Any:
            return run(self, spec, state, handle, event, waits=strangler_waits)

        task.strangler_spec = spec
        task.strangler_state = state
        task.handle = handle
        return task

    return register


def run(
    task: Any,
    spec: HandlerSpec,
    state: _State,
    handle: Callable[[Event], Any],
    raw: Any,
    *,
    waits: int = 0,
) -> Any:
    """One delivery of one event (the body of every handler task).

    ``waits``: how many of this message's Celery retries were looks again at a claim
    another delivery held (:func:`_look_again`), not attempts of the handler.

    Every call to the dedupe store, the dead-letter store and the broker (a retry is a
    publish) goes through :func:`_infra`: with late acks, an exception escaping from
    them would ack (or, from Celery's own failed retry publish, reject) the message and
    drop the event with no dead letter. An unavailable store or broker requeues it.
    """
    parsed = parse_event(raw, schema=spec.schema, max_bytes=spec.max_bytes)
    attempt = max(0, int(task.request.retries or 0) - waits)
    if isinstance(parsed, InvalidEvent):
        reason = f"invalid: {parsed.reason}"
        add = functools.partial(state.dead_letters.add, spec.name, raw, reason)
        _infra(spec, "dead-letter store", lambda: add(attempt, ""))
        _confirm(spec, state, raw, Outcome.DEAD)
        raise DeadLettered(f"{spec.name}: invalid event {parsed.event_id}: {parsed.reason}")
    if parsed.shadow:
        return _run_shadow(handle, parsed)
    session: parity.ParityRun | None = None
    if parsed.parity is not None:
        if not parity.worker_enabled():  # settings from an event: only a test worker
            reason = f"invalid: parity event refused ({parity.WORKER_ENV} is not set)"
            add = functools.partial(state.dead_letters.add, spec.name, raw, reason)
            _infra(spec, "dead-letter store", lambda: add(attempt, ""))
            _confirm(spec, state, raw, Outcome.DEAD)
            raise DeadLettered(f"{spec.name}: {reason}: event {parsed.id}")
        session = parity.ParityRun(parsed.parity)
        handle = functools.partial(session, handle)
    if _expired(task, parsed):
        _skip_expired(spec, parsed, "not run")
    claim = _infra(spec, "dedupe store", lambda: state.dedupe.claim(parsed.id, spec.lease))
    if claim.state is ClaimState.DONE:
        log.info("%s: event %s already handled; skipped", spec.name, parsed.id)
        _confirm(spec, state, raw, Outcome.DONE)  # the first confirmation may have been lost
        return None if claim.result is None else json.loads(claim.result)
    if claim.state is ClaimState.BUSY:
        # Another delivery is running it (or died holding the lease): look again later.
        later = min(spec.lease, max(0.5, spec.lease / 4))
        if _expired(task, parsed, within=later):
            _skip_expired(spec, parsed, "not looked at again (another delivery holds it)")
        _look_again(task, spec, later, waits)
    claimed_at = time.monotonic()
    release = functools.partial(state.dedupe.release, parsed.id, claim.token)
    try:
        with use_traceparent(parsed.traceparent):  # events the handler publishes join the trace
            result = handle(parsed)
    except spec.transient as exc:
        _infra(spec, "dedupe store", release)
        exhausted = attempt >= spec.max_retries
        # A test waits on a parity event: the retries, as many, come at once (no backoff).
        pause = (
            0.0 if session is not None else backoff(attempt, spec.backoff_base, spec.backoff_max)
        )
        if _expired(task, parsed, within=0.0 if exhausted else pause):
            _skip_expired(spec, parsed, f"not retried after {type(exc).__name__}: {exc}")
        if exhausted and parsed.reply:
            _give_up_reply(spec, parsed, attempt + 1, exc)
        if exhausted:
            _dead(state, spec, raw, "max retries exceeded", attempt + 1, exc)
        _retry(task, spec, exc=exc, countdown=pause)
    except Exception as exc:
        if not parsed.reply:
            _infra(spec, "dedupe store", release)
            _dead(state, spec, raw, "error", attempt + 1, exc)
        # A caller waits: the exception is its answer (raised again there), not poison.
        log.info("%s: event %s answered with %s: %s", spec.name, parsed.id,
                 type(exc).__name__, exc)  # fmt: skip
        result = encode_exception(exc)
        if session is not None:  # with the mail the handler sent before it raised
            result = session.reply(result)
    result, result_json = _serialised(spec, parsed.id, result)  # the work is done: kept
    complete = functools.partial(state.dedupe.complete, parsed.id, claim.token)
    _keep_trying(spec, "dedupe store", lambda: complete(result_json, spec.done_ttl),
                 until=claimed_at + spec.lease)  # fmt: skip
    _confirm(spec, state, raw, Outcome.DONE)
    return result


def _expired(task: Any, event: Event, *, within: float = 0.0) -> bool:
    """Will the caller of a request/reply event have stopped waiting ``within`` s from now?

    The caller publishes such an event with Celery's ``expires`` at its deadline, and past
    it falls back to the monolith body: running the handler after that would do the work
    twice. Other events, and a delivery with no (or an unreadable) ``expires``, never
    expire here.
    """
    if not event.reply:
        return False
    deadline = _deadline(getattr(task.request, "expires", None))
    return deadline is not None and datetime.now(UTC) + timedelta(seconds=within) >= deadline


def _deadline(expires: Any) -> datetime | None:
    """``task.request.expires`` as an aware datetime: the message carries ISO 8601 text."""
    if isinstance(expires, str):
        try:
            expires = datetime.fromisoformat(expires)
        except ValueError:
            return None
    if not isinstance(expires, datetime):
        return None
    return expires if expires.tzinfo is not None else expires.replace(tzinfo=UTC)


def _skip_expired(spec: HandlerSpec, event: Event, what: str) -> NoReturn:
    """Finish a request/reply event whose caller gave up: acked, nothing stored, no retry.

    Not dead-lettered: a replay would do the work the monolith body did in the caller's
    fallback. ``Ignore`` acks the message (late acks included) and stores no result.
    """
    from celery.exceptions import Ignore

    log.warning("%s: event %s expired, its caller has fallen back to the monolith; %s",
                spec.name, event.id, what)  # fmt: skip
    raise Ignore(f"{spec.name}: event {event.id} expired")


def _serialised(spec: HandlerSpec, event_id: str, result: Any) -> tuple[Any, str]:
    """``result`` and its JSON; an error answer in its place if it is not JSON.

    Called outside the handler's ``try`` on purpose: the handler has done its work, so a
    result that does not serialise must neither release the claim nor dead-letter the
    event (a redelivery or a replay would do the work again). The event is marked done
    with an error answer instead, which a request/reply caller raises as
    :class:`~shims.encoding.RemoteError` (not falling back: the work is done).
    """
    try:
        return result, json.dumps(result)
    except Exception as exc:  # TypeError, ValueError (a cycle), RecursionError
        why = f"{type(exc).__name__}: {exc}"
        log.error("%s: event %s handled, but its result is not JSON (%s); marked done "
                  "with an error answer, not run again", spec.name, event_id, why)  # fmt: skip
        answer = encode_exception(
            RemoteError(f"{spec.name}: the handler did its work but its result is not JSON ({why})")
        )
        return answer, json.dumps(answer)


def _confirm(spec: HandlerSpec, state: _State, raw: Any, outcome: Outcome) -> None:
    """Tell the outbox relay the event is accounted for, if it asked (``shims.confirm``)."""
    event_id = raw.get("id") if wants_confirmation(raw) else None
    if isinstance(event_id, str):
        confirm = functools.partial(state.confirmations.confirm, event_id, outcome)
        _infra(spec, "confirmation store", lambda: confirm(spec.done_ttl))


def _infra(spec: HandlerSpec, what: str, operation: Callable[[], T]) -> T:
    """Run a store call; if the store is unavailable, requeue the message (never ack it)."""
    try:
        return operation()
    except Exception as exc:
        _requeue(spec, what, exc)


def _look_again(task: Any, spec: HandlerSpec, countdown: float, waits: int) -> NoReturn:
    """Retry later a delivery that found the event claimed by another one, counted apart.

    Celery counts this retry in ``request.retries`` like any other; if it counted as an
    attempt, waiting out a dead worker's lease (``lease / 4`` a look) would use up the
    handler's ``max_retries`` before it ever ran, and its first transient error would
    dead-letter the event. The count travels in the task's ``strangler_waits`` keyword.
    """
    kwargs = {**(getattr(task.request, "kwargs", None) or {}), "strangler_waits": waits + 1}
    _retry(task, spec, countdown=countdown, max_retries=None, kwargs=kwargs)


def _keep_trying(spec: HandlerSpec, what: str, operation: Callable[[], T], *, until: float) -> T:
    """:func:`_infra` for a store call made after the handler did its work.

    Requeued then, the event would find its claim still held, wait out the lease and run
    the handler a second time. So while the claim still protects it (``until``, on the
    monotonic clock), the call is tried again every ``REQUEUE_PAUSE`` seconds, the
    message held; only an outage that outlasts the lease requeues it.
    """
    while True:
        try:
            return operation()
        except Exception as exc:
            if time.monotonic() + REQUEUE_PAUSE >= until:
                _requeue(spec, what, exc)
            error = " ".join(f"{type(exc).__name__}: {exc}".split())
            log.warning("%s: %s unavailable after the work was done (%s); trying again",
                        spec.name, what, error)  # fmt: skip
            time.sleep(REQUEUE_PAUSE)


def _retry(task: Any, spec: HandlerSpec, **options: Any) -> NoReturn:
    """``task.retry``, except that a failed retry publish requeues instead of dropping.

    Celery turns a retry it could not publish into ``Reject(requeue=False)``: the message
    would be dropped, and with it the event.
    """
    from celery.exceptions import Reject

    try:
        raise task.retry(**options)
    except Reject as exc:
        if exc.requeue:
            raise
        reason = exc.reason if isinstance(exc.reason, BaseException) else RuntimeError(exc.reason)
        _requeue(spec, "broker (retry publish)", reason)


def _requeue(spec: HandlerSpec, what: str, exc: BaseException) -> NoReturn:
    """Give the message back to the broker, after a pause so an outage is not a hot loop."""
    from celery.exceptions import Reject

    error = " ".join(f"{type(exc).__name__}: {exc}".split())
    log.warning("%s: %s unavailable (%s); event requeued", spec.name, what, error)
    time.sleep(REQUEUE_PAUSE)
    raise Reject(exc, requeue=True) from exc


def _dead(
    state: _State, spec: HandlerSpec, raw: Any, reason: str, attempts: int, exc: BaseException
) -> NoReturn:
    error = f"{type(exc).__name__}: {exc}"
    entry = _infra(
        spec, "dead-letter store",
        lambda: state.dead_letters.add(spec.name, raw, reason, attempts, error),
    )  # fmt: skip
    log.error("%s: event dead-lettered as #%s (%s; %s)", spec.name, entry.id, reason, error)
    _confirm(spec, state, raw, Outcome.DEAD)
    raise DeadLettered(f"{spec.name}: {reason} after {attempts} attempt(s): {error}") from exc


def _give_up_reply(spec: HandlerSpec, event: Event, attempts: int, exc: BaseException) -> NoReturn:
    """Fail a request/reply event out of retries, without a dead letter.

    Its caller is still waiting and, told of the failure, falls back to the monolith body
    (or raises, without fallback): either way the call is over. A dead letter would be
    an invitation to replay the work after the fallback had done it.
    """
    error = f"{type(exc).__name__}: {exc}"
    log.error("%s: event %s failed after %d attempt(s) (%s); its caller falls back, "
              "not dead-lettered", spec.name, event.id, attempts, error)  # fmt: skip
    raise RetriesExhausted(f"{spec.name}: {attempts} attempt(s) failed: {error}") from exc


def _run_shadow(handle: Callable[[Event], Any], event: Event) -> dict[str, Any]:
    with capture() as effects, use_traceparent(event.traceparent):
        result = handle(event)
    return {"result": result, "effects": effects.as_dict()}
