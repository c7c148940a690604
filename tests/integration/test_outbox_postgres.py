"""The outbox relay on a real PostgreSQL: the ``SELECT ... FOR UPDATE SKIP LOCKED`` path.

``shims.outbox`` locks a batch with ``SKIP LOCKED`` where the database has it and claims
rows with a conditional ``UPDATE`` elsewhere; the SQLite tests (tests/unit/shims/
test_outbox*.py) only ever reach the second. Here the Django ORM talks to the server at
127.0.0.1:5432 (``postgres_database`` in tests/conftest.py: a fresh database per run,
dropped after) through an alias of its own, migrated like a monolith's database.

The subject is the database locking, so the broker side is a recording publish function
(event id and which relay published it), as in the unit tests; the real-worker path of
the same relay is tests/integration/test_outbox.py (on SQLite). The alias sets
``lock_timeout``: a relay that waited for a row lock instead of skipping it fails with
``LockNotAvailable`` rather than hanging the run.

A server database adds a failure SQLite does not have: the relay's session ended by the
server (``pg_terminate_backend``, as a restart or failover would). The last tests show
that nothing is lost (the pass rolls back and is published again) and that the relay
loop goes on.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shims import outbox
from shims.confirm import ConfirmationStore, Outcome, open_confirmations
from shims.deadletter import open_dead_letters
from shims.django.models import OutboxEvent, State
from shims.events import build_event
from shims.outbox import Redelivery, pending_count, relay_once, run_relay, write_outbox

ALIAS = "outbox_pg"
LOCKED_SQL = "FOR UPDATE SKIP LOCKED"
ROWS = 500
BATCH = 25


@pytest.fixture(scope="module")
def pg(postgres_database: dict[str, Any], django_db_blocker: Any) -> Iterator[str]:
    """``ALIAS``: the fresh database as a Django connection, with every migration applied."""
    entry = {**postgres_database, "OPTIONS": {"options": "-c lock_timeout=5s"}}
    connections.settings[ALIAS] = connections.configure_settings({"default": {}, ALIAS: entry})[
        ALIAS
    ]
    try:
        with django_db_blocker.unblock():
            call_command("migrate", database=ALIAS, verbosity=0, interactive=False)
            yield ALIAS
    finally:
        connections[ALIAS].close()
        del connections.settings[ALIAS]


@pytest.fixture
def outbox_db(pg: str, django_db_blocker: Any) -> Iterator[str]:
    """An empty outbox table on ``pg``; database access allowed (threads included)."""
    with django_db_blocker.unblock():
        OutboxEvent.objects.using(pg).all().delete()
        yield pg
        connections[pg].close()


class Recorder:
    """The publish function: records (event id, relay) in order; ``fail_at`` raises once."""

    def __init__(self, fail_at: int | None = None, pause: float = 0.0) -> None:
        self.published: list[tuple[str, str]] = []
        self.calls = 0
        self.fail_at, self.pause = fail_at, pause
        self._lock = threading.Lock()

    def __call__(self, relay: str) -> Any:
        def publish(task: str, event: dict[str, Any]) -> None:
            with self._lock:
                self.calls += 1
                if self.calls == self.fail_at:
                    raise ConnectionError("broker down")
                self.published.append((str(event["id"]), relay))
            time.sleep(self.pause)  # a broker round trip: lets the other relay's pass overlap

        return publish

    @property
    def ids(self) -> list[str]:
        return [event_id for event_id, _ in self.published]


@pytest.fixture
def confirmations() -> ConfirmationStore:
    return open_confirmations("memory://")


def relay(db: str, publish: Any, confirmations: ConfirmationStore, batch: int = BATCH) -> Any:
    """One relay pass on ``db`` with redelivery on (nothing is due: rows are fresh)."""
    return relay_once(
        batch, publish=publish, using=db, redelivery=Redelivery(after=30),
        confirmations=confirmations, dead_letters=open_dead_letters("memory://"),
    )  # fmt: skip


def connect(db: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection of its own to ``db``'s database, outside Django (another process, say)."""
    settings = connections[db].settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
        port=settings["PORT"], autocommit=autocommit,
    )  # fmt: skip


def terminate_own_session(db: str) -> None:
    """End this thread's session on ``db`` from the server side (a restart, a failover)."""
    pid = connections[db].connection.info.backend_pid
    with connect(db, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def write(db: str, count: int) -> list[str]:
    events = [build_event("f", {"n": n}) for n in range(count)]
    OutboxEvent.objects.using(db).bulk_create(
        OutboxEvent(event_id=e["id"], task="t.x", feature="f", payload=e) for e in events
    )
    return [str(e["id"]) for e in events]


def ids_in_order(db: str) -> list[str]:
    return list(OutboxEvent.objects.using(db).order_by("id").values_list("event_id", flat=True))


def test_postgres_takes_the_skip_locked_path(
    outbox_db: str, confirmations: ConfirmationStore
) -> None:
    assert connections[outbox_db].features.has_select_for_update_skip_locked
    write_outbox("t.x", build_event("f", {"n": 0}), using=outbox_db)  # the function the shim calls
    written = ids_in_order(outbox_db)
    recorder = Recorder()
    with CaptureQueriesContext(connections[outbox_db]) as queries:
        result = relay(outbox_db, recorder("a"), confirmations)
    assert (result.sent, result.failed) == (1, 0)
    assert recorder.ids == written
    statements = [query["sql"] for query in queries.captured_queries]
    locking = [sql for sql in statements if LOCKED_SQL in sql]
    assert len(locking) == 2, statements  # the pending rows, then the due sent rows
    assert all('ORDER BY "strangler_outboxevent"."id" ASC LIMIT' in sql for sql in locking)
    # The SQLite path's claim (a conditional UPDATE of claim_token) never ran.
    assert not [sql for sql in statements if "claim_token" in sql and sql.startswith("UPDATE")]


def two_relays(db: str, recorder: Recorder, step: Callable[[Any], int]) -> set[int]:
    """Relays ``a`` and ``b`` at once, one thread and one connection each.

    Each runs ``step(publish)`` (a relay pass; returns how many rows it published) until
    it returns 0. Each relay's first publish waits (a barrier) until the other relay has
    reached its own first publish: both passes are then open at once, each with its batch
    locked and unpublished, by construction rather than by luck. Were the lock to wait
    instead of skipping, the second relay would block on the first one's rows and fail
    (``lock_timeout``, or the barrier's timeout). Returns the server sessions' pids.
    """
    both_in_a_pass = threading.Barrier(2, timeout=30)
    met: list[str] = []

    def publisher(name: str) -> Any:
        publish = recorder(name)

        def first_waits(task: str, event: dict[str, Any]) -> None:
            if name not in met:
                met.append(name)
                both_in_a_pass.wait()
            publish(task, event)

        return first_waits

    def run(name: str) -> int:
        try:
            connections[db].ensure_connection()
            backend: int = connections[db].connection.info.backend_pid
            publish = publisher(name)
            while step(publish):
                pass
            return backend
        finally:
            connections[db].close()

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run, name) for name in ("a", "b")]
        backends = {future.result(timeout=120) for future in futures}
    assert sorted(met) == ["a", "b"]
    by_relay = Counter(name for _, name in recorder.published)
    assert by_relay["a"] > 0, by_relay
    assert by_relay["b"] > 0, by_relay
    return backends


def test_two_relays_at_once_publish_each_row_once(
    outbox_db: str, confirmations: ConfirmationStore
) -> None:
    written = write(outbox_db, ROWS)
    recorder = Recorder(pause=0.001)
    backends = two_relays(
        outbox_db, recorder, lambda publish: relay(outbox_db, publish, confirmations).sent
    )
    assert len(backends) == 2  # two server sessions, not one shared connection
    counts = Counter(recorder.ids)
    assert sorted(counts) == sorted(written)
    assert set(counts.values()) == {1}  # every row published once, by one relay
    assert pending_count(using=outbox_db) == 0
    rows = OutboxEvent.objects.using(outbox_db)
    assert set(rows.values_list("state", "publish_count", "attempts")) == {(State.SENT, 1, 1)}


def test_two_relays_at_once_settle_each_due_row_once(
    outbox_db: str, confirmations: ConfirmationStore
) -> None:
    """The second pass (sent rows past their wait) takes the same lock: one relay per row."""
    written = write(outbox_db, 120)
    assert relay(outbox_db, Recorder()("setup"), confirmations, batch=len(written)).sent == 120
    confirmed = set(written[::4])
    for event_id in confirmed:
        confirmations.confirm(event_id, Outcome.DONE, ttl=60)
    rows = OutboxEvent.objects.using(outbox_db)
    rows.update(sent_at=timezone.now() - timedelta(seconds=31))  # due: redeliver after 30 s
    recorder = Recorder(pause=0.001)
    two_relays(
        outbox_db, recorder,
        lambda publish: relay(outbox_db, publish, confirmations, batch=10).redelivered,
    )  # fmt: skip
    counts = Counter(recorder.ids)
    assert sorted(counts) == sorted(set(written) - confirmed)  # confirmed: never again
    assert set(counts.values()) == {1}
    assert set(rows.filter(event_id__in=confirmed).values_list("state", flat=True)) == {
        State.HANDLED
    }
    unconfirmed = rows.exclude(event_id__in=confirmed)
    assert set(unconfirmed.values_list("state", "publish_count")) == {(State.SENT, 2)}


def test_a_row_locked_elsewhere_is_skipped_then_published_once_released(
    outbox_db: str, confirmations: ConfirmationStore
) -> None:
    first, *others = write(outbox_db, 3)
    locked = OutboxEvent.objects.using(outbox_db).get(event_id=first)
    other = connect(outbox_db)
    try:
        table = OutboxEvent._meta.db_table
        held = other.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [locked.pk])
        assert held.fetchall() == [(locked.pk,)]  # another transaction holds the oldest row
        recorder = Recorder()
        result = relay(outbox_db, recorder("a"), confirmations)  # waiting would hit lock_timeout
        assert (result.sent, result.failed) == (2, 0)
        assert recorder.ids == others
        assert pending_count(using=outbox_db) == 1
        assert relay(outbox_db, recorder("a"), confirmations).sent == 0  # still held: still skipped
        other.rollback()  # the other transaction ends
    finally:
        other.close()
    assert relay(outbox_db, recorder("a"), confirmations).sent == 1
    assert recorder.ids == [*others, first]
    assert pending_count(using=outbox_db) == 0


def test_the_monolith_writes_to_the_outbox_while_a_relay_holds_its_batch(
    outbox_db: str, confirmations: ConfirmationStore
) -> None:
    """A business transaction's outbox row neither waits for nor fails on a relay's locks.

    (SQLite's shared-cache test database makes the writer retry: docs/reliability.md.)
    """
    first = write(outbox_db, 1)
    recorder = Recorder()
    record = recorder("a")
    late = build_event("f", {"n": "late"})

    def commit_one_row() -> None:
        try:
            with transaction.atomic(using=outbox_db):
                write_outbox("t.x", late, using=outbox_db)  # lock_timeout if it waited
        finally:
            connections[outbox_db].close()

    def publish(task: str, event: dict[str, Any]) -> None:
        record(task, event)
        if len(recorder.published) == 1:  # inside the pass: the batch is locked
            with ThreadPoolExecutor(1) as monolith:
                monolith.submit(commit_one_row).result(timeout=30)

    assert relay(outbox_db, publish, confirmations).sent == 1
    assert relay(outbox_db, publish, confirmations).sent == 1
    assert recorder.ids == [*first, late["id"]]


def test_a_publish_failure_mid_batch_leaves_the_rest_pending(
    outbox_db: str, confirmations: ConfirmationStore
) -> None:
    written = write(outbox_db, 5)
    recorder = Recorder(fail_at=3)
    result = relay(outbox_db, recorder("a"), confirmations, batch=10)
    assert (result.sent, result.failed, result.error) == (2, 3, "ConnectionError: broker down")
    rows = OutboxEvent.objects.using(outbox_db).order_by("id")
    assert [(r.state, r.attempts, r.last_error) for r in rows] == [
        (State.SENT, 1, ""), (State.SENT, 1, ""),
        (State.PENDING, 1, "ConnectionError: broker down"),
        (State.PENDING, 0, ""), (State.PENDING, 0, ""),
    ]  # fmt: skip
    assert pending_count(using=outbox_db) == 3
    assert relay(outbox_db, recorder("a"), confirmations, batch=10).sent == 3  # the broker is back
    assert recorder.ids == written
    assert set(rows.values_list("state", flat=True)) == {State.SENT}


def test_a_relay_whose_connection_dies_mid_pass_loses_nothing(
    outbox_db: str, confirmations: ConfirmationStore
) -> None:
    """At least once: the server ends the relay's session after its third publish.

    The pass's marks roll back with its transaction and its locks go with the session, so
    the next pass (a new connection) publishes the whole batch again at once: the first
    three twice (the handlers' event-id dedupe absorbs that), none lost, none waited for.
    """
    written = write(outbox_db, 5)
    recorder = Recorder()
    record = recorder("a")

    def publish_then_die(task: str, event: dict[str, Any]) -> None:
        record(task, event)
        if len(recorder.published) == 3:
            terminate_own_session(outbox_db)

    with pytest.raises(DatabaseError, match="terminat"):
        relay(outbox_db, publish_then_die, confirmations, batch=10)
    assert pending_count(using=outbox_db) == 5  # no mark survived
    result = relay(outbox_db, record, confirmations, batch=10)  # reconnects: atomic closed it
    assert (result.sent, result.failed) == (5, 0)
    assert recorder.ids == written[:3] + written
    rows = OutboxEvent.objects.using(outbox_db)
    assert set(rows.values_list("state", "publish_count")) == {(State.SENT, 1)}


class ConfirmAll:
    """The handler side's confirmations: every event handled; ``before`` runs first, once."""

    def __init__(self, before: Callable[[], None] | None) -> None:
        self.before = before

    def outcomes(self, event_ids: list[str]) -> dict[str, Outcome]:
        if self.before:
            self.before, before = None, self.before
            before()
        return dict.fromkeys(event_ids, Outcome.DONE)


@pytest.mark.parametrize("where", ["mid-pass", "outside a transaction"])
def test_the_relay_loop_outlives_a_lost_connection(
    outbox_db: str, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_relay`` (``strangler outbox relay``) goes on after the server ends its session
    (a restart, a failover, an idle-session timeout): every row published and handled.

    ``mid-pass``: after the third publish, inside the pass's transaction, whose exit drops
    the broken connection. ``outside a transaction``: while the relay reads the handlers'
    confirmations, before it marks the confirmed rows ``handled`` in autocommit; Django
    keeps that dead connection (outside the request cycle nothing discards it) and every
    later statement fails with ``the connection is closed`` unless the relay drops it.
    """
    written = write(outbox_db, 5)
    recorder = Recorder()
    record = recorder("loop")
    killed: list[str] = []

    def kill() -> None:
        killed.append(where)
        terminate_own_session(outbox_db)

    def publish(task: str, event: dict[str, Any]) -> None:
        record(task, event)
        if where == "mid-pass" and len(recorder.published) == 3 and not killed:
            kill()

    confirm = ConfirmAll(kill if where == "outside a transaction" else None)
    monkeypatch.setitem(outbox._stores, ("confirm", "memory://"), confirm)
    stop = threading.Event()

    def loop() -> int:
        try:
            return run_relay(
                batch=10, interval=0.05, stop=stop, publish=publish, using=outbox_db,
                redelivery=Redelivery(after=30, confirm_url="memory://"),
            )  # fmt: skip
        finally:
            connections[outbox_db].close()

    rows = OutboxEvent.objects.using(outbox_db)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(loop)
        deadline = time.monotonic() + 30
        while not running.done() and time.monotonic() < deadline:
            if set(rows.values_list("state", flat=True)) == {State.HANDLED}:
                break
            time.sleep(0.05)
        stop.set()
        running.result(timeout=30)  # the loop ended because it was told to, not by an error
    assert killed == [where]
    assert set(recorder.ids) == set(written)
    assert set(rows.values_list("state", flat=True)) == {State.HANDLED}
