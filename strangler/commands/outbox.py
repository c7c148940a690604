"""``strangler outbox relay``: publish the monolith's outbox rows to the broker.

Runs inside the monolith's Django project (``--settings`` or ``DJANGO_SETTINGS_MODULE``)
because the outbox is a table of its database. ``--once`` relays what is pending and
exits (cron, tests); without it the relay loops until interrupted. Each pass also
settles sent rows: confirmed by the handler side -> ``handled``; unconfirmed after
``outbox_redeliver_after`` -> published again; still unconfirmed after
``outbox_max_publishes`` publishes -> dead-lettered ``never confirmed`` (see
``shims.outbox``). ``prune`` deletes handled rows.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import click

from strangler.commands.errors import EXIT_FAILED, fail

__all__ = ["outbox"]

_RELAY_LOGGER = "shims.outbox"


@click.group("outbox")
def outbox() -> None:
    """The transactional outbox (events written with the business change)."""


@outbox.command("relay")
@click.option("--once", is_flag=True, help="Relay what is pending now, then exit.")
@click.option("--batch", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True)
@click.option("--settings", "settings_module", default=None, help="Django settings module.")
def relay(once: bool, batch: int, interval: float, settings_module: str | None) -> None:
    """Publish pending outbox rows, settle sent ones (confirmed, republished, dead)."""
    _setup_django(settings_module)
    from django.db import DatabaseError

    from shims.celery import check_broker_url
    from shims.outbox import OutboxNotReady, check_outbox, pending_count, relay_once, run_relay
    from shims.runtime import get_runtime

    try:
        check_broker_url(get_runtime().settings.broker_url)
    except ValueError as exc:
        fail(str(exc))
    try:
        check_outbox()
    except (OutboxNotReady, DatabaseError) as exc:
        fail(str(exc), EXIT_FAILED)
    if once:
        total, settled = 0, [0, 0, 0]
        with _quiet(_RELAY_LOGGER):
            while True:
                result = relay_once(batch)
                total += result.sent
                settled = [a + b for a, b in zip(settled, _settled(result), strict=True)]
                if result.failed:
                    fail(
                        f"sent {total}; broker refused the rest ({result.error}); "
                        f"{pending_count()} row(s) wait",
                        EXIT_FAILED,
                    )
                if result.sent < batch:
                    break
        again, handled, dead = settled
        extra = f"; {again} republished, {handled} confirmed, {dead} never confirmed"
        shown = extra if any(settled) else ""
        click.echo(f"sent {total} event(s); {pending_count()} pending{shown}")
        return
    stop = threading.Event()
    try:
        run_relay(batch=batch, interval=interval, stop=stop)
    except KeyboardInterrupt:
        stop.set()


@outbox.command("prune")
@click.option(
    "--older-than", "days", type=click.FloatRange(min=0), default=7.0, show_default=True,
    help="Days since the handler side confirmed the row.",
)  # fmt: skip
@click.option("--settings", "settings_module", default=None, help="Django settings module.")
def prune(days: float, settings_module: str | None) -> None:
    """Delete outbox rows the handler side confirmed more than --older-than days ago."""
    _setup_django(settings_module)
    from shims.outbox import prune_handled

    click.echo(f"pruned {prune_handled(timedelta(days=days))} handled row(s)")


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Mute logger ``name`` when logging is not configured, for ``--once``.

    ``--once`` reports a failure itself, in one line; with no handler anywhere, Python's
    last-resort handler would print the relay's own warning above it. A configured
    logging setup (Django's ``LOGGING``) still gets every record.
    """
    logger = logging.getLogger(name)
    if logger.hasHandlers():
        yield
        return
    null = logging.NullHandler()
    logger.addHandler(null)
    try:
        yield
    finally:
        logger.removeHandler(null)


def _settled(result: object) -> list[int]:
    return [int(getattr(result, name)) for name in ("redelivered", "handled", "dead")]


def _setup_django(settings_module: str | None) -> None:
    if settings_module:
        if not _importable(settings_module):
            raise click.UsageError(f"cannot load Django settings: no module {settings_module!r}")
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        raise click.UsageError("no Django project: pass --settings or set DJANGO_SETTINGS_MODULE")
    import django

    try:
        django.setup()
    except ImportError as exc:
        raise click.UsageError(f"cannot load Django settings: {exc}") from None


def _importable(module: str) -> bool:
    """Whether ``module`` can be found, without importing it (or failing half-way)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
