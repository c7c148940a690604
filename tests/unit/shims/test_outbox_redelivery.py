"""The relay's redelivery of sent-but-unconfirmed rows, with in-process stores (unit level).

Rows are aged by moving ``sent_at`` back in the database: the relay compares it with the
clock, so no clock is faked. The real broker case (a Redis broker SIGKILLed mid-traffic)
is tests/reliability/test_broker_outage.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from shims.confirm import CONFIRM_ATTRIBUTE, ConfirmationStore, Outcome, open_confirmations
from shims.deadletter import DeadLetterStore, open_dead_letters
from shims.django.models import OutboxEvent, State
from shims.events import build_event
from shims.outbox import Redelivery, prune_handled, relay_once, unconfirmed_count, write_outbox

pytestmark = pytest.mark.django_db(transaction=True)

AFTER = 10.0


class Broker:
    """The publish function: records (task, event), or refuses while ``down``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.down = False

    def __call__(self, task: str, event: dict[str, Any]) -> None:
        if self.down:
            raise ConnectionError("broker down")
        self.sent.append((task, event))

    @property
    def ids(self) -> list[str]:
        return [str(event["id"]) for _, event in self.sent]


@pytest.fixture
def confirmations() -> ConfirmationStore:
    return open_confirmations("memory://")


@pytest.fixture
def dead_letters() -> DeadLetterStore:
    return open_dead_letters("memory://")


@pytest.fixture
def relay(confirmations: ConfirmationStore, dead_letters: DeadLetterStore) -> Any:
    broker = Broker()

    def run(max_publishes: int = 3, after: float = AFTER) -> Any:
        policy = Redelivery(after=after, max_publishes=max_publishes)
        return relay_once(
            10, publish=broker, redelivery=policy,
            confirmations=confirmations, dead_letters=dead_letters,
        )  # fmt: skip

    run.broker = broker  # type: ignore[attr-defined]
    return run


def age(seconds: float) -> None:
    """Every sent row was last published ``seconds`` ago."""
    OutboxEvent.objects.filter(state=State.SENT).update(
        sent_at=timezone.now() - timedelta(seconds=seconds)
    )


def one_sent(relay: Any) -> str:
    event = build_event("f", {"n": 1})
    write_outbox("t.x", event)
    assert relay().sent == 1
    return str(event["id"])


def row() -> OutboxEvent:
    only: OutboxEvent = OutboxEvent.objects.get()
    return only


def test_published_events_ask_for_confirmation_and_wait_as_sent(relay: Any) -> None:
    event_id = one_sent(relay)
    [(task, event)] = relay.broker.sent
    assert (task, event["id"], event[CONFIRM_ATTRIBUTE]) == ("t.x", event_id, True)
    assert (row().state, row().publish_count) == (State.SENT, 1)
    assert row().payload.get(CONFIRM_ATTRIBUTE) is None  # the stored event is unchanged
    assert unconfirmed_count() == 1


def test_an_unconfirmed_row_is_not_republished_before_redeliver_after(relay: Any) -> None:
    one_sent(relay)
    age(AFTER - 2)
    result = relay()
    assert (result.sent, result.redelivered) == (0, 0)
    assert len(relay.broker.sent) == 1


def test_an_unconfirmed_row_is_republished_with_the_same_id(relay: Any) -> None:
    event_id = one_sent(relay)
    age(AFTER + 1)
    result = relay()
    assert result.redelivered == 1
    assert relay.broker.ids == [event_id, event_id]
    assert relay.broker.sent[1][1][CONFIRM_ATTRIBUTE] is True
    assert (row().state, row().publish_count, row().attempts) == (State.SENT, 2, 2)
    assert timezone.now() - row().sent_at < timedelta(seconds=5)  # the wait starts again


def test_the_wait_doubles_after_each_publish(relay: Any) -> None:
    one_sent(relay)
    age(AFTER + 1)
    assert relay().redelivered == 1
    age(2 * AFTER - 1)  # second publish: waits 2 x AFTER
    assert relay().redelivered == 0
    age(2 * AFTER + 1)
    assert relay().redelivered == 1
    assert row().publish_count == 3


@pytest.mark.parametrize("outcome", [Outcome.DONE, Outcome.DEAD])
def test_a_confirmed_row_is_marked_handled_and_not_republished(
    relay: Any, confirmations: ConfirmationStore, outcome: Outcome
) -> None:
    event_id = one_sent(relay)
    confirmations.confirm(event_id, outcome, ttl=60)
    age(AFTER + 1)
    result = relay()
    assert (result.handled, result.redelivered) == (1, 0)
    assert row().state == State.HANDLED
    assert row().handled_at is not None
    assert len(relay.broker.sent) == 1
    assert unconfirmed_count() == 0


def test_a_confirmed_row_is_marked_handled_before_its_wait_is_over(
    relay: Any, confirmations: ConfirmationStore
) -> None:
    event_id = one_sent(relay)
    assert relay().handled == 0
    confirmations.confirm(event_id, Outcome.DONE, ttl=60)
    result = relay()
    assert (result.handled, result.redelivered) == (1, 0)
    assert row().state == State.HANDLED
    assert relay().handled == 0  # once


def test_never_confirmed_after_max_publishes_is_dead_lettered(
    relay: Any, dead_letters: DeadLetterStore
) -> None:
    event_id = one_sent(relay)
    for wait in (AFTER, 2 * AFTER):
        age(wait + 1)
        assert relay(max_publishes=3).redelivered == 1
    age(4 * AFTER + 1)
    result = relay(max_publishes=3)
    assert (result.redelivered, result.dead) == (0, 1)
    assert relay.broker.ids == [event_id] * 3
    assert (row().state, row().publish_count) == (State.DEAD, 3)
    [entry] = dead_letters.list()
    assert (entry.task, entry.event_id, entry.reason) == ("t.x", event_id, "never confirmed")
    assert entry.attempts == 3
    assert entry.event == row().payload
    age(100 * AFTER)
    assert relay(max_publishes=3).dead == 0  # dead rows are left alone
    assert len(dead_letters.list()) == 1


def test_a_confirmation_store_outage_republishes_nothing_and_kills_nothing(
    relay: Any, dead_letters: DeadLetterStore, monkeypatch: pytest.MonkeyPatch,
    confirmations: ConfirmationStore,
) -> None:  # fmt: skip
    one_sent(relay)

    def down(event_ids: Any) -> Any:
        raise ConnectionError("store down")

    monkeypatch.setattr(confirmations, "outcomes", down)
    age(100 * AFTER)
    result = relay(max_publishes=1)
    assert (result.redelivered, result.dead, result.handled) == (0, 0, 0)
    assert result.error == "ConnectionError: store down"
    assert row().state == State.SENT
    assert dead_letters.list() == []


def test_a_broker_outage_during_redelivery_keeps_the_row_sent(relay: Any) -> None:
    one_sent(relay)
    age(AFTER + 1)
    relay.broker.down = True
    result = relay()
    assert (result.redelivered, result.failed) == (0, 1)
    assert (row().state, row().publish_count, row().last_error) == (
        State.SENT, 1, "ConnectionError: broker down",
    )  # fmt: skip
    assert OutboxEvent.objects.exclude(claim_token="").count() == 0  # claims released
    relay.broker.down = False
    assert relay().redelivered == 1


def test_redelivery_off_publishes_plain_events_and_never_looks_back(relay: Any) -> None:
    event = build_event("f", {"n": 1})
    write_outbox("t.x", event)
    assert relay(after=0).sent == 1
    age(1e6)
    assert relay(after=0).redelivered == 0
    assert relay.broker.sent == [("t.x", event)]


def test_prune_removes_handled_rows_older_than_the_cutoff(
    relay: Any, confirmations: ConfirmationStore
) -> None:
    for n in range(3):
        write_outbox("t.x", build_event("f", {"n": n}))
    relay()
    first, *_ = relay.broker.ids
    confirmations.confirm(first, Outcome.DONE, ttl=60)
    age(AFTER + 1)
    relay()
    assert prune_handled(timedelta(hours=1)) == 0  # handled just now
    OutboxEvent.objects.filter(state=State.HANDLED).update(
        handled_at=timezone.now() - timedelta(hours=2)
    )
    assert prune_handled(timedelta(hours=1)) == 1
    assert OutboxEvent.objects.count() == 2
    assert not OutboxEvent.objects.filter(event_id=first).exists()


def test_redelivery_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="after"):
        Redelivery(after=-1)
    with pytest.raises(ValueError, match="max_publishes"):
        Redelivery(max_publishes=0)


def test_two_relays_republish_each_due_row_once(
    confirmations: ConfirmationStore, dead_letters: DeadLetterStore
) -> None:
    broker, lock = Broker(), threading.Lock()

    def publish(task: str, event: dict[str, Any]) -> None:
        with lock:
            broker(task, event)
        time.sleep(0.001)  # let the other relay in

    policy = Redelivery(after=AFTER, max_publishes=3)
    kw: dict[str, Any] = {
        "publish": publish, "redelivery": policy,
        "confirmations": confirmations, "dead_letters": dead_letters,
    }  # fmt: skip
    for n in range(40):
        write_outbox("t.x", build_event("f", {"n": n}))
    while relay_once(7, **kw).sent:
        pass
    age(AFTER + 1)

    def relay() -> None:
        try:
            while relay_once(7, **kw).redelivered:
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(Counter(broker.ids).values()) == [2] * 40
    assert set(OutboxEvent.objects.values_list("publish_count", flat=True)) == {2}
