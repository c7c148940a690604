"""The transactional outbox: events written with the business change, relayed later.

With ``@routed(..., outbox=True)`` a fire-and-forget call writes its event as a row of
``shims.django.models.OutboxEvent`` in the caller's database transaction: a rollback
removes the event with the change, a commit keeps both, and a broker outage costs
nothing but delay. The relay (``strangler outbox relay``, :func:`run_relay`, or the
Celery beat task from :func:`register_relay_task`) publishes pending rows and marks them
sent.

At-least-once *end to end*: a broker can accept a message and still lose it (kombu's
Redis transport pops a message with ``BRPOP`` and records it as unacknowledged in a
second round trip; a broker dying between the two loses it). So ``sent`` is not the end
of a row: the relay publishes each event with the ``stranglerconfirm`` attribute, the
handler base confirms it once handled or dead-lettered (``shims.confirm``, in the
handlers' dedupe store), and the relay looks a sent row up again after
``redeliver_after`` seconds (doubling after each publish): confirmed rows become
``handled`` (and can be pruned), unconfirmed ones are published again with the same
event id, which the handlers' dedupe absorbs if the event was in fact handled. After
``max_publishes`` publishes without a confirmation the row is dead-lettered with the
reason ``never confirmed`` (state ``dead``). A confirmation store that cannot be read
changes nothing: no republish, no dead letter.

Two relays at once: on databases that support it (PostgreSQL, MySQL 8, Oracle) a batch
is locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` so each row goes to one relay;
elsewhere (SQLite) a relay claims a batch with a conditional ``UPDATE`` (rows not
claimed, or whose claim lease expired) under a random token and publishes only the rows
carrying its token. Delivery stays at-least-once (a relay that dies between publishing
and marking re-sends: after the lease on SQLite, at once where its transaction rolled
back and its locks went with its session), which the handlers' event-id dedupe absorbs.

Imports Django, so it is imported only by outbox users (never by ``shims`` itself).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from shims.confirm import CONFIRM_ATTRIBUTE, ConfirmationStore, open_confirmations
from shims.deadletter import DeadLetterStore, open_dead_letters
from shims.django.models import OutboxEvent, State

__all__ = [
    "NEVER_CONFIRMED",
    "RELAY_TASK",
    "OutboxNotReady",
    "Redelivery",
    "RelayResult",
    "check_outbox",
    "pending_count",
    "prune_handled",
    "register_relay_task",
    "relay_once",
    "run_relay",
    "unconfirmed_count",
    "write_outbox",
]

log = logging.getLogger("shims.outbox")

RELAY_TASK = "strangler.outbox.relay"
NEVER_CONFIRMED = "never confirmed"
CLAIM_LEASE = timedelta(seconds=60)

Publish = Callable[[str, dict[str, Any]], Any]
T = TypeVar("T")
LOCK_RETRIES = 50


def _retry_locked(operation: Callable[[], T]) -> T:
    """Run a relay statement, retrying while SQLite reports the table locked.

    SQLite's busy timeout does not cover every lock (shared-cache databases report
    ``table is locked`` at once), and a relay must not die, or worse leave a published
    row unmarked, because another relay held the write lock for a millisecond.
    """
    for attempt in range(LOCK_RETRIES):
        try:
            return operation()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class RelayResult:
    """What one relay pass did.

    ``sent``: pending rows published; ``failed``: rows a publish failure left waiting;
    ``redelivered``: unconfirmed rows published again; ``handled``: rows confirmed by the
    handler side; ``dead``: rows dead-lettered as never confirmed.
    """

    sent: int
    failed: int
    error: str = ""
    redelivered: int = 0
    handled: int = 0
    dead: int = 0


@dataclass(frozen=True, slots=True)
class Redelivery:
    """When the relay publishes a sent but unconfirmed row again.

    A row published ``n`` times is looked up ``after * 2**(n-1)`` seconds after its last
    publish: the doubling keeps a slow handler (or a long retry chain) from being
    republished in a tight loop. ``after=0`` turns redelivery (and confirmations) off.
    ``confirm_url``: where the handlers confirm; default the handlers' own dedupe store
    URL (:func:`shims.handlers.dedupe_url`), so both sides resolve it the same way.
    """

    after: float = 30.0
    max_publishes: int = 5
    confirm_url: str | None = None

    def __post_init__(self) -> None:
        if self.after < 0:
            raise ValueError(f"redelivery after must be >= 0 seconds, got {self.after}")
        if self.max_publishes < 1:
            raise ValueError(f"redelivery max_publishes must be >= 1, got {self.max_publishes}")

    @property
    def enabled(self) -> bool:
        return self.after > 0

    def wait(self, publishes: int) -> timedelta:
        """How long a row published ``publishes`` times waits for its confirmation."""
        return timedelta(seconds=self.after * 2 ** (max(1, publishes) - 1))

    def due(self, now: Any) -> Q:
        """Sent rows whose wait is over (one term per publish count: all in SQL)."""
        last = self.max_publishes
        terms = Q(publish_count__gte=last, sent_at__lte=now - self.wait(last))
        for count in range(1, last):
            terms |= Q(publish_count=count, sent_at__lte=now - self.wait(count))
        return Q(state=State.SENT) & terms


def write_outbox(task: str, event: dict[str, Any], *, using: str | None = None) -> OutboxEvent:
    """Write ``event`` for ``task`` as an outbox row, in the caller's transaction."""
    row: OutboxEvent = _manager(using).create(
        event_id=str(event["id"]),
        task=task,
        feature=str(event.get("type", "")),
        payload=event,
    )
    return row


def pending_count(using: str | None = None) -> int:
    """Rows not yet published (claimed or not)."""
    return _retry_locked(lambda: int(_manager(using).filter(sent_at__isnull=True).count()))


def unconfirmed_count(using: str | None = None) -> int:
    """Rows published but not yet confirmed by the handler side."""
    return _retry_locked(lambda: int(_manager(using).filter(state=State.SENT).count()))


def prune_handled(older_than: timedelta, using: str | None = None) -> int:
    """Delete rows confirmed more than ``older_than`` ago; returns how many."""
    cutoff = timezone.now() - older_than
    old = _manager(using).filter(state=State.HANDLED, handled_at__lt=cutoff)
    deleted: int = _retry_locked(lambda: old.delete()[0])
    return deleted


def _manager(using: str | None) -> Any:
    return OutboxEvent.objects.using(using or router.db_for_write(OutboxEvent))


def _default_publish() -> Publish:
    from shims.dispatch import publisher
    from shims.runtime import get_runtime

    settings = get_runtime().settings

    def publish(task: str, event: dict[str, Any]) -> Any:
        # Outbox events are fire-and-forget: nobody waits for a result.
        return publisher.publish(settings, task, event, ignore_result=True)

    return publish


def relay_once(
    batch: int = 100,
    *,
    publish: Publish | None = None,
    using: str | None = None,
    redelivery: Redelivery | None = None,
    confirmations: ConfirmationStore | None = None,
    dead_letters: DeadLetterStore | None = None,
) -> RelayResult:
    """Publish up to ``batch`` pending rows, then settle up to ``batch`` due sent rows.

    A publish failure stops the pass. ``redelivery`` defaults to the settings
    (``outbox_redeliver_after``, ``outbox_max_publishes``); the stores to the handlers'
    (dedupe store URL for confirmations, dead-letter store URL), opened only when a
    sent row is due.
    """
    publish = publish or _default_publish()
    policy = redelivery or _settings_redelivery()
    alias = using or router.db_for_write(OutboxEvent)

    def first(rows: list[Any]) -> RelayResult:
        return _publish_rows(rows, publish, alias, confirm=policy.enabled)

    result = _pass(batch, alias, Q(sent_at__isnull=True), first)
    if result.failed or not policy.enabled:
        return result
    settle = _Settle(policy, publish, alias, confirmations, dead_letters)
    later = _pass(batch, alias, policy.due(timezone.now()), settle)
    early = settle.confirmed_early(batch) if not later.error else 0
    return RelayResult(
        result.sent, later.failed, later.error, later.redelivered, later.handled + early,
        later.dead,
    )  # fmt: skip


def _settings_redelivery() -> Redelivery:
    from shims.runtime import get_runtime

    settings = get_runtime().settings
    return Redelivery(settings.outbox_redeliver_after, settings.outbox_max_publishes)


def _pass(
    batch: int, alias: str, where: Q, work: Callable[[list[Any]], RelayResult]
) -> RelayResult:
    if connections[alias].features.has_select_for_update_skip_locked:
        return _relay_locked(batch, alias, where, work)
    return _relay_claimed(batch, alias, where, work)


def _relay_locked(
    batch: int, alias: str, where: Q, work: Callable[[list[Any]], RelayResult]
) -> RelayResult:
    with transaction.atomic(using=alias):
        rows = list(
            _manager(alias).select_for_update(skip_locked=True).filter(where).order_by("id")[:batch]
        )
        return work(rows) if rows else RelayResult(0, 0)


def _relay_claimed(
    batch: int, alias: str, where: Q, work: Callable[[list[Any]], RelayResult]
) -> RelayResult:
    token = uuid.uuid4().hex
    now = timezone.now()
    free = Q(claim_token="") | Q(claimed_until__lt=now)
    candidates = _manager(alias).filter(free, where).order_by("id")
    ids = _retry_locked(lambda: list(candidates.values_list("id", flat=True)[:batch]))
    if not ids:
        return RelayResult(0, 0)
    # The conditional UPDATE is the claim: a row another relay claimed (or settled) in
    # between no longer matches ``free & where``, so each row is claimed by one relay.
    _retry_locked(
        lambda: (
            _manager(alias)
            .filter(free, where, id__in=ids)
            .update(claim_token=token, claimed_until=now + CLAIM_LEASE)
        )
    )
    mine = _manager(alias).filter(claim_token=token)
    rows = _retry_locked(lambda: list(mine.order_by("id")))
    try:
        return work(rows) if rows else RelayResult(0, 0)
    finally:
        # Every row of this claim, whatever state it reached (a published row keeps no
        # claim: it must be free for the redelivery check).
        _retry_locked(lambda: mine.update(claim_token="", claimed_until=None))


def _publish_rows(rows: list[Any], publish: Publish, alias: str, *, confirm: bool) -> RelayResult:
    sent = 0
    for position, row in enumerate(rows):
        error = _publish_row(row, publish, alias, confirm=confirm)
        if error:
            waiting = len(rows) - position
            log.warning("outbox relay: publish failed (%s); %d row(s) wait", error, waiting)
            return RelayResult(sent, waiting, error)
        sent += 1
    return RelayResult(sent, 0)


def _publish_row(row: Any, publish: Publish, alias: str, *, confirm: bool) -> str:
    """Publish one row and record it; returns the error ("" when it went out)."""
    event = {**row.payload, CONFIRM_ATTRIBUTE: True} if confirm else row.payload
    try:
        publish(row.task, event)
    except Exception as exc:
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:2000]
        _update_row(alias, row.pk, attempts=row.attempts + 1, last_error=error)
        return error
    _update_row(
        alias, row.pk, sent_at=timezone.now(), attempts=row.attempts + 1,
        state=State.SENT, publish_count=row.publish_count + 1,
    )  # fmt: skip
    return ""


_stores: dict[tuple[str, str], Any] = {}
_stores_lock = threading.Lock()


def _store(kind: str, url: str) -> Any:
    """One opened store per (kind, URL) per process: a relay pass must not reconnect."""
    with _stores_lock:
        if (kind, url) not in _stores:
            opener = open_confirmations if kind == "confirm" else open_dead_letters
            _stores[kind, url] = opener(url)
        return _stores[kind, url]


class _Settle:
    """Due sent rows: handled if confirmed, else published again, or dead-lettered."""

    def __init__(
        self,
        policy: Redelivery,
        publish: Publish,
        alias: str,
        confirmations: ConfirmationStore | None,
        dead_letters: DeadLetterStore | None,
    ) -> None:
        self.policy, self.publish, self.alias = policy, publish, alias
        self._confirmations, self._dead_letters = confirmations, dead_letters

    def __call__(self, rows: list[Any]) -> RelayResult:
        try:
            confirmed = self.confirmations().outcomes([row.event_id for row in rows])
        except Exception as exc:
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:2000]
            log.warning("outbox relay: confirmations unreadable (%s); nothing republished", error)
            return RelayResult(0, 0, error)
        done = [row.pk for row in rows if row.event_id in confirmed]
        if done:
            handled = _manager(self.alias).filter(pk__in=done)
            _retry_locked(lambda: handled.update(state=State.HANDLED, handled_at=timezone.now()))
        redelivered = dead = 0
        for position, row in enumerate(r for r in rows if r.event_id not in confirmed):
            if row.publish_count >= self.policy.max_publishes:
                dead += self.dead_letter(row)
                continue
            error = _publish_row(row, self.publish, self.alias, confirm=True)
            if error:
                log.warning("outbox relay: republish failed (%s); rows wait", error)
                return RelayResult(0, len(rows) - len(done) - position, error, redelivered,
                                   len(done), dead)  # fmt: skip
            redelivered += 1
        if redelivered:
            log.info("outbox relay: %d unconfirmed event(s) published again", redelivered)
        return RelayResult(0, 0, "", redelivered, len(done), dead)

    def confirmed_early(self, batch: int) -> int:
        """Mark handled the oldest sent rows already confirmed, due or not; returns how many.

        Not needed for correctness (a due row is looked up anyway) but it keeps ``sent``
        meaning "still open" within a pass or two, not ``redeliver_after`` later. No claim:
        the update is conditional on the row still being ``sent``, and marking a
        confirmed row handled is right whichever relay does it.
        """
        sent = _manager(self.alias).filter(state=State.SENT).order_by("id")
        rows = _retry_locked(lambda: list(sent.values_list("pk", "event_id")[:batch]))
        if not rows:
            return 0
        try:
            confirmed = self.confirmations().outcomes([event_id for _, event_id in rows])
        except Exception:
            return 0  # the due rows' lookup reports the outage; nothing to change here
        done = [pk for pk, event_id in rows if event_id in confirmed]
        if not done:
            return 0
        handled = _manager(self.alias).filter(pk__in=done, state=State.SENT)
        count: int = _retry_locked(
            lambda: handled.update(state=State.HANDLED, handled_at=timezone.now())
        )
        return count

    def dead_letter(self, row: Any) -> int:
        """Hand a never-confirmed row to the dead-letter store; 0 if the store refused."""
        try:
            self.dead_letters().add(
                row.task, row.payload, NEVER_CONFIRMED, row.publish_count,
                f"no confirmation after {row.publish_count} publish(es)",
            )  # fmt: skip
        except Exception as exc:
            log.warning("outbox relay: dead-letter store unavailable (%s); row %s waits",
                        type(exc).__name__, row.event_id)  # fmt: skip
            return 0
        _update_row(self.alias, row.pk, state=State.DEAD, last_error=NEVER_CONFIRMED)
        log.error("outbox relay: event %s never confirmed; dead-lettered", row.event_id)
        return 1

    def confirmations(self) -> ConfirmationStore:
        if self._confirmations is None:
            from shims.handlers import dedupe_url

            self._confirmations = _store("confirm", self.policy.confirm_url or dedupe_url())
        return self._confirmations

    def dead_letters(self) -> DeadLetterStore:
        if self._dead_letters is None:
            from shims.handlers import dead_letter_url

            self._dead_letters = _store("dead", dead_letter_url())
        return self._dead_letters


def _update_row(alias: str, pk: int, **fields: Any) -> None:
    _retry_locked(lambda: _manager(alias).filter(pk=pk).update(**fields))


class OutboxNotReady(Exception):
    """The outbox table is missing from the relay's database (migrations not run).

    Raised before the first pass: a relay that tolerates database errors (below) would
    otherwise log the same error every second and never say that nothing can work.
    """


def check_outbox(using: str | None = None) -> None:
    """Raise :class:`OutboxNotReady` unless the outbox table exists in ``using``'s
    database; a database that cannot be reached raises its own error."""
    alias = using or router.db_for_write(OutboxEvent)
    table = OutboxEvent._meta.db_table
    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if table not in tables:
        raise OutboxNotReady(
            f"outbox table {table!r} not found in database {alias!r}: "
            "run `manage.py migrate` (the app shims.django must be in INSTALLED_APPS)"
        )


def run_relay(
    *,
    batch: int = 100,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    publish: Publish | None = None,
    using: str | None = None,
    redelivery: Redelivery | None = None,
) -> int:
    """Relay until ``stop`` is set; full batches go again at once. Returns rows sent.

    A database that goes away (a restart, a failover, a session the server ended) costs a
    pass, not the relay: the pass's transaction rolls back (its rows are published again:
    at least once), the dead connection is dropped, and the next pass reconnects. Django
    drops such a connection itself only around requests, which a relay never serves; a
    connection lost outside a transaction would otherwise fail every later pass. Errors
    of other kinds (``ProgrammingError``, ``IntegrityError``) still end the relay, and
    so does a database without the outbox table at start (:class:`OutboxNotReady`;
    SQLite reports a missing table as an ``OperationalError``, which would else be
    retried for ever).
    """
    stop = stop or threading.Event()
    alias = using or router.db_for_write(OutboxEvent)
    check_outbox(alias)
    total = 0
    while not stop.is_set():
        try:
            result = relay_once(batch, publish=publish, using=alias, redelivery=redelivery)
        except (OperationalError, InterfaceError) as exc:
            error = " ".join(str(exc).split())
            log.warning("outbox relay: database error (%s); next pass in %g s", error, interval)
            connections[alias].close_if_unusable_or_obsolete()
            stop.wait(interval)
            continue
        total += result.sent
        if result.sent < batch or result.failed:
            stop.wait(interval)
    return total


def register_relay_task(app: Any, *, every: float = 1.0, batch: int = 100) -> Any:
    """Register ``strangler.outbox.relay`` on ``app`` and schedule it with Celery beat."""

    @app.task(name=RELAY_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def relay(batch_size: int = batch) -> dict[str, Any]:
        result = relay_once(batch_size)
        return {
            "sent": result.sent, "failed": result.failed, "error": result.error,
            "redelivered": result.redelivered, "handled": result.handled, "dead": result.dead,
        }  # fmt: skip

    schedule = dict(app.conf.beat_schedule or {})
    schedule[RELAY_TASK] = {"task": RELAY_TASK, "schedule": every, "args": (batch,)}
    app.conf.beat_schedule = schedule
    return relay
