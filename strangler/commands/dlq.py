"""``strangler dlq``: the events handlers gave up on: list, show, replay, purge.

The store is the one the handlers write (``--url``, else ``STRANGLER_DLQ_URL``, else the
route store when it is Redis, else ``sqlite:///.strangler/handlers.db``). Replay
republishes the event unchanged, same id, to its task on the configured broker, and
removes the entry only once the publish succeeded.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from shims.config import load_settings, mask_url
from shims.deadletter import (
    DeadLetter,
    DeadLetterStore,
    MemoryDeadLetters,
    open_dead_letters,
    replay,
)
from shims.handlers import dead_letter_url
from shims.urls import sqlite_file_missing
from strangler.commands.errors import EXIT_FAILED, fail
from strangler.render.cells import literal

__all__ = ["dlq"]

_url_option = click.option(
    "--url",
    "url",
    metavar="URL",
    default=None,
    help="Dead-letter store URL (else STRANGLER_DLQ_URL, a Redis route store, "
    "sqlite:///.strangler/handlers.db).",
)
_format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


@click.group("dlq")
def dlq() -> None:
    """Dead-lettered events: list, show, replay, purge."""


@contextmanager
def _opened(url: str | None) -> Iterator[DeadLetterStore]:
    """The store ``url`` names, its failures one ``strangler: error:`` line each.

    A bad URL is bad input (exit 2); a store that cannot be read - a server that does
    not answer, a SQLite path that is a folder or a file that is no database - is
    exit 1, like ``strangler route``'s.
    """
    if url is not None and not url.strip():
        fail("--url is empty: give a dead-letter store URL or leave the option out")
    target = url or dead_letter_url()
    if sqlite_file_missing(target):
        # Reading must not create the store: a SQLite file that does not exist yet holds
        # no dead letters, shown under its own URL.
        yield MemoryDeadLetters(target)
        return
    with _unavailable_fails(target):
        try:
            store = open_dead_letters(target)
        except (ValueError, ImportError) as exc:
            fail(str(exc))
    try:
        with _unavailable_fails(target):
            yield store
    finally:
        store.close()


@contextmanager
def _unavailable_fails(target: str) -> Iterator[None]:
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        fail(f"dead-letter store {mask_url(target)}: {exc}", EXIT_FAILED)
    except Exception as exc:
        if type(exc).__module__.startswith("redis"):
            fail(f"dead-letter store {mask_url(target)} unreachable: {exc}", EXIT_FAILED)
        raise


def _when(entry: DeadLetter) -> str:
    return datetime.fromtimestamp(entry.at, UTC).strftime("%Y-%m-%d %H:%M:%S")


@dlq.command("list")
@_url_option
@_format_option
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
def list_entries(url: str | None, fmt: str, limit: int) -> None:
    """Entries, oldest first."""
    with _opened(url) as store:
        entries = store.list(limit)
        if fmt == "json":
            click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
            return
        if not entries:
            missing = isinstance(store, MemoryDeadLetters) and store.url.startswith("sqlite:")
            what = "no dead-letter store at" if missing else "no dead letters in"
            click.echo(f"{what} {mask_url(store.url)}")
            return
        table = Table()
        for column in ("id", "when (UTC)", "task", "event id", "reason", "attempts", "last error"):
            table.add_column(column, overflow="fold")
        for e in entries:
            table.add_row(
                str(e.id), _when(e), literal(e.task), literal(e.event_id), literal(e.reason),
                str(e.attempts), literal(e.last_error[:80]),
            )  # fmt: skip
        Console(soft_wrap=False).print(table)


@dlq.command("show")
@click.argument("entry_id", type=int)
@_url_option
def show(entry_id: int, url: str | None) -> None:
    """One entry in full, as JSON (the event exactly as received)."""
    with _opened(url) as store:
        entry = store.get(entry_id)
        if entry is None:
            raise click.BadParameter(f"no dead letter #{entry_id}", param_hint="ENTRY_ID")
        click.echo(json.dumps(entry.to_dict(), indent=2))


@dlq.command("replay")
@click.argument("entry_id", type=int, required=False)
@click.option("--all", "replay_all", is_flag=True, help="Replay every entry.")
@click.option("--broker", metavar="URL", default=None, help="Broker URL (else the settings').")
@click.option("--queue", default=None, help="Queue to publish to (else Celery's default).")
@_url_option
def replay_command(
    entry_id: int | None, replay_all: bool, broker: str | None, queue: str | None, url: str | None
) -> None:
    """Republish ENTRY_ID's event (or --all) to its task and remove the entry."""
    if (entry_id is None) == (not replay_all):
        raise click.UsageError("give exactly one of ENTRY_ID or --all")
    from shims.celery import build_app, check_broker_url, close_app

    overrides: dict[str, Any] = {} if broker is None else {"broker_url": broker}
    extra: dict[str, Any] = {} if queue is None else {"task_default_queue": queue}
    try:
        settings = load_settings(overrides)
        check_broker_url(settings.broker_url)
    except ValueError as exc:
        fail(str(exc))
    with _opened(url) as store:
        ids = [e.id for e in store.list(limit=1_000_000)] if replay_all else [entry_id or 0]
        if not ids:
            click.echo(f"nothing to replay in {mask_url(store.url)}")
            return
        if store.get(ids[0]) is None:
            # Before the app is built: building it creates the filesystem broker's and
            # the results' folders, and bad input writes nothing.
            raise click.BadParameter(f"no dead letter #{ids[0]}", param_hint="ENTRY_ID")
        app = build_app(settings, name="strangler-dlq", **extra)
        try:
            for one in ids:
                _replay_one(store, one, app)
        finally:
            close_app(app)


def _replay_one(store: DeadLetterStore, entry_id: int, app: Any) -> None:
    from shims.celery import PublishConfig

    def publish(task: str, event: dict[str, Any]) -> None:
        # Nobody waits for a replayed event's result: depend on the broker only.
        app.send_task(
            task, args=[event], retry=True, retry_policy=PublishConfig.retry_policy,
            ignore_result=True,
        )  # fmt: skip

    try:
        entry = replay(store, entry_id, publish)
    except Exception as exc:
        if isinstance(exc, click.ClickException | click.exceptions.Exit):
            raise
        fail(
            f"replay of #{entry_id} failed, entry kept: {type(exc).__name__}: {exc}",
            EXIT_FAILED,
        )
    if entry is None:
        raise click.BadParameter(f"no dead letter #{entry_id}", param_hint="ENTRY_ID")
    click.echo(f"replayed #{entry.id} ({entry.task}, event {entry.event_id})")


@dlq.command("purge")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_url_option
def purge(yes: bool, url: str | None) -> None:
    """Delete every entry."""
    with _opened(url) as store:
        if not yes:
            click.confirm(f"delete every dead letter in {mask_url(store.url)}?", abort=True)
        click.echo(f"purged {store.purge()} dead letter(s)")
