"""Outbox rows and the relay, with an in-process publish function (unit level).

The broker outage and two-relay cases with a real worker are in
tests/integration/test_outbox.py."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from click.testing import CliRunner
from django.db import transaction
from django.utils import timezone

from shims.celery import check_broker_url
from shims.confirm import CONFIRM_ATTRIBUTE
from shims.dispatch import publisher
from shims.django.models import OutboxEvent, State
from shims.events import build_event
from shims.outbox import (
    RELAY_TASK,
    OutboxNotReady,
    check_outbox,
    pending_count,
    register_relay_task,
    relay_once,
    run_relay,
    write_outbox,
)
from shims.runtime import reset_runtime
from strangler.cli import main

pytestmark = pytest.mark.django_db(transaction=True)


def test_rows_follow_the_transaction() -> None:
    with transaction.atomic():
        write_outbox("t.kept", build_event("f", {"n": 1}))
    with transaction.atomic():
        write_outbox("t.lost", build_event("f", {"n": 2}))
        transaction.set_rollback(True)
    assert list(OutboxEvent.objects.values_list("task", flat=True)) == ["t.kept"]
    assert pending_count() == 1


def test_relay_publishes_in_order_and_marks_sent() -> None:
    events = [build_event("f", {"n": n}) for n in range(5)]
    for event in events:
        write_outbox("t.x", event)
    sent: list[tuple[str, Any]] = []
    result = relay_once(3, publish=lambda task, event: sent.append((task, event)))
    assert (result.sent, result.failed) == (3, 0)
    assert relay_once(3, publish=lambda task, event: sent.append((task, event))).sent == 2
    # Published as stored, plus the request to confirm (redelivery is on by default).
    assert [event for _, event in sent] == [{**e, CONFIRM_ATTRIBUTE: True} for e in events]
    assert pending_count() == 0
    assert relay_once(3, publish=lambda task, event: sent.append((task, event))).sent == 0
    assert OutboxEvent.objects.filter(sent_at__isnull=False, attempts=1).count() == 5


def test_a_failed_publish_keeps_the_row_with_the_error() -> None:
    write_outbox("t.x", build_event("f", {"n": 1}))
    write_outbox("t.x", build_event("f", {"n": 2}))

    def down(task: str, event: dict[str, Any]) -> None:
        raise ConnectionError("broker down")

    result = relay_once(10, publish=down)
    assert (result.sent, result.failed) == (0, 2)
    assert result.error == "ConnectionError: broker down"
    first = OutboxEvent.objects.order_by("id").first()
    assert first is not None
    assert (first.attempts, first.last_error, first.sent_at) == (1, result.error, None)
    assert pending_count() == 2
    assert OutboxEvent.objects.exclude(claim_token="").count() == 0  # claims released


def test_relay_task_is_scheduled_with_beat() -> None:
    app = Celery("t", set_as_current=False)
    task = register_relay_task(app, every=2.0, batch=7)
    assert task.name == RELAY_TASK
    assert app.conf.beat_schedule[RELAY_TASK] == {"task": RELAY_TASK, "schedule": 2.0, "args": (7,)}


def test_cli_relay_once(monkeypatch: pytest.MonkeyPatch) -> None:
    write_outbox("t.x", build_event("f", {"n": 1}))
    sent: list[str] = []
    monkeypatch.setattr(
        publisher, "publish", lambda settings, task, event, **options: sent.append(task)
    )
    result = CliRunner().invoke(main, ["outbox", "relay", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 1 event(s); 0 pending"
    assert sent == ["t.x"]


def test_cli_relay_once_with_the_broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    write_outbox("t.x", build_event("f", {"n": 1}))

    def down(settings: Any, task: str, event: Any, **options: Any) -> None:
        raise ConnectionError("refused")

    monkeypatch.setattr(publisher, "publish", down)
    # No logging configured, as from a shell: Python's last-resort handler would print
    # the relay's warning above the command's own error line.
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    result = CliRunner().invoke(main, ["outbox", "relay", "--once"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "strangler: error: sent 0; broker refused the rest (ConnectionError: refused); "
        "1 row(s) wait"
    ]


def test_cli_relay_with_an_unknown_broker_transport_is_bad_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_outbox("t.x", build_event("f", {"n": 1}))
    monkeypatch.setenv("STRANGLER_BROKER_URL", "bogus://:hunter2@x")
    reset_runtime()
    try:
        result = CliRunner().invoke(main, ["outbox", "relay", "--once"])
    finally:
        reset_runtime()
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"strangler: error: unknown broker transport in 'bogus://:****@x': {_expected()}"
    ]
    assert pending_count() == 1


def _expected() -> str:
    with pytest.raises(ValueError, match="expected one of") as info:
        check_broker_url("bogus://x")
    return str(info.value).split(": ", 1)[1]


def test_cli_relay_once_republishes_an_unconfirmed_row(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STRANGLER_DEDUPE_URL", f"sqlite:///{tmp_path}/handlers.db")
    event = build_event("f", {"n": 1})
    write_outbox("t.x", event)
    sent: list[str] = []
    monkeypatch.setattr(
        publisher, "publish", lambda settings, task, event, **options: sent.append(event["id"])
    )
    assert CliRunner().invoke(main, ["outbox", "relay", "--once"]).exit_code == 0
    OutboxEvent.objects.update(sent_at=timezone.now() - timedelta(seconds=31))  # default 30 s
    result = CliRunner().invoke(main, ["outbox", "relay", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "sent 0 event(s); 0 pending; 1 republished, 0 confirmed, 0 never confirmed"
    )
    assert sent == [event["id"], event["id"]]


def test_cli_prune_deletes_old_handled_rows_only() -> None:
    for n in range(3):
        write_outbox("t.x", build_event("f", {"n": n}))
    old = timezone.now() - timedelta(days=8)
    first, second, _ = OutboxEvent.objects.order_by("id")
    OutboxEvent.objects.filter(pk=first.pk).update(state=State.HANDLED, handled_at=old)
    OutboxEvent.objects.filter(pk=second.pk).update(state=State.HANDLED, handled_at=timezone.now())
    result = CliRunner().invoke(main, ["outbox", "prune"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "pruned 1 handled row(s)"
    assert OutboxEvent.objects.count() == 2


def test_relay_refuses_a_database_without_the_outbox_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite reports a missing table as an OperationalError, the kind the loop retries:
    without the check at start a relay on an unmigrated database logged for ever."""
    monkeypatch.setattr(OutboxEvent._meta, "db_table", "strangler_no_such_outbox")
    with pytest.raises(OutboxNotReady, match="strangler_no_such_outbox"):
        check_outbox()
    with pytest.raises(OutboxNotReady):
        run_relay(interval=0.05)  # raises before its first pass: no stop event needed
    result = CliRunner().invoke(main, ["outbox", "relay", "--once"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "manage.py migrate" in lines[0]


def test_a_broker_query_key_that_kombu_also_takes_from_the_url_is_one_line() -> None:
    """kombu builds ``dict(password=..., **query)``: ``?password=`` collided in a
    TypeError; it is a bad URL, its value masked."""
    with pytest.raises(ValueError) as info:
        check_broker_url("redis://h/0?password=s3cret")
    assert str(info.value).startswith("bad broker URL 'redis://h/0?password=****'")
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "amqp://u:SE#CRET@h//",
        "amqp://u:12?x=SECRET@h//",
        "redis://:SE;CRET@h/0",
        "redis://:ok@h1/0;redis://:SE/CRET@h2/0",
    ],
)
def test_a_broker_password_kombu_would_split_is_refused_unquoted(url: str) -> None:
    """kombu's errors quoted the piece of the password it read as a port or a key."""
    with pytest.raises(ValueError, match=r"^bad broker URL") as info:
        check_broker_url(url)
    assert "SE" not in str(info.value)
    assert "CRET" not in str(info.value)


def test_a_failover_broker_list_is_accepted() -> None:
    check_broker_url("redis://:a@h1/0;redis://:b@h2/0")
