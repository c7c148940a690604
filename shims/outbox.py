"""The transactional outbox: events written with the business change, relayed later.

With ``@routed(..., outbox=True)`` a fire-and-forget call writes its event as a row of
``shims.django.models.OutboxEvent`` in the caller's database transaction: a rollback
removes the event with the change, a commit keeps both, and a broker outage costs
nothing but delay. The relay (``strangler outbox relay``, :func:`run_relay`, or the
Celery beat task from :func:`register_relay_task`) publishes pending rows and marks them
sent.

Two relays at once: on databases that support it (PostgreSQL, MySQL 8, Oracle) a batch
is locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` so each row goes to one relay;
elsewhere (SQLite) a relay claims a batch with a conditional ``UPDATE`` (rows not
claimed, or whose claim lease expired) under a random token and publishes only the rows
carrying its token. Delivery stays at-least-once (a relay that dies between publishing
and marking re-sends after the lease), which the handlers' event-id dedupe absorbs.

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

from django.db import OperationalError, connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from shims.django.models import OutboxEvent

__all__ = [
    "RELAY_TASK",
    "RelayResult",
    "pending_count",
    "register_relay_task",
    "relay_once",
    "run_relay",
    "write_outbox",
]

log = logging.getLogger("shims.outbox")

RELAY_TASK = "strangler.outbox.relay"
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
    """What one relay pass did: rows published, rows that failed (kept for later)."""

    sent: int
    failed: int
    error: str = ""


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
    batch: int = 100, *, publish: Publish | None = None, using: str | None = None
) -> RelayResult:
    """Publish up to ``batch`` pending rows; a publish failure stops the pass."""
    publish = publish or _default_publish()
    alias = using or router.db_for_write(OutboxEvent)
    if connections[alias].features.has_select_for_update_skip_locked:
        return _relay_locked(batch, publish, alias)
    return _relay_claimed(batch, publish, alias)


def _relay_locked(batch: int, publish: Publish, alias: str) -> RelayResult:
    with transaction.atomic(using=alias):
        rows = list(
            _manager(alias)
            .select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .order_by("id")[:batch]
        )
        return _publish_rows(rows, publish, alias)


def _relay_claimed(batch: int, publish: Publish, alias: str) -> RelayResult:
    token = uuid.uuid4().hex
    now = timezone.now()
    free = Q(claim_token="") | Q(claimed_until__lt=now)
    pending = _manager(alias).filter(free, sent_at__isnull=True).order_by("id")
    ids = _retry_locked(lambda: list(pending.values_list("id", flat=True)[:batch]))
    if not ids:
        return RelayResult(0, 0)
    # The conditional UPDATE is the claim: a row another relay claimed in between no
    # longer matches ``free``, so each row is claimed by exactly one relay.
    _retry_locked(
        lambda: (
            _manager(alias)
            .filter(free, id__in=ids, sent_at__isnull=True)
            .update(claim_token=token, claimed_until=now + CLAIM_LEASE)
        )
    )
    mine = _manager(alias).filter(claim_token=token, sent_at__isnull=True)
    rows = _retry_locked(lambda: list(mine.order_by("id")))
    result = _publish_rows(rows, publish, alias)
    _retry_locked(lambda: mine.update(claim_token="", claimed_until=None))
    return result


def _publish_rows(rows: list[Any], publish: Publish, alias: str) -> RelayResult:
    sent = 0
    for position, row in enumerate(rows):
        try:
            publish(row.task, row.payload)
        except Exception as exc:
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:2000]
            _update_row(alias, row.pk, attempts=row.attempts + 1, last_error=error)
            waiting = len(rows) - position
            log.warning("outbox relay: publish failed (%s); %d row(s) wait", error, waiting)
            return RelayResult(sent, waiting, error)
        _update_row(alias, row.pk, sent_at=timezone.now(), attempts=row.attempts + 1)
        sent += 1
    return RelayResult(sent, 0)


def _update_row(alias: str, pk: int, **fields: Any) -> None:
    _retry_locked(lambda: _manager(alias).filter(pk=pk).update(**fields))


def run_relay(
    *,
    batch: int = 100,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    publish: Publish | None = None,
    using: str | None = None,
) -> int:
    """Relay until ``stop`` is set; full batches go again at once. Returns rows sent."""
    stop = stop or threading.Event()
    total = 0
    while not stop.is_set():
        result = relay_once(batch, publish=publish, using=using)
        total += result.sent
        if result.sent < batch or result.failed:
            stop.wait(interval)
    return total


def register_relay_task(app: Any, *, every: float = 1.0, batch: int = 100) -> Any:
    """Register ``strangler.outbox.relay`` on ``app`` and schedule it with Celery beat."""

    @app.task(name=RELAY_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def relay(batch_size: int = batch) -> dict[str, Any]:
        result = relay_once(batch_size)
        return {"sent": result.sent, "failed": result.failed, "error": result.error}

    schedule = dict(app.conf.beat_schedule or {})
    schedule[RELAY_TASK] = {"task": RELAY_TASK, "schedule": every, "args": (batch,)}
    app.conf.beat_schedule = schedule
    return relay
