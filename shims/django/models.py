"""The transactional outbox table (``strangler_outboxevent``).

A row is written in the monolith's own transaction, so the event exists exactly when
the business change it announces was committed; ``shims.outbox`` relays rows to the
broker and marks them sent. ``claim_token``/``claimed_until`` let two relays share the
table on databases without ``SELECT ... FOR UPDATE SKIP LOCKED`` (SQLite).

``state`` follows a row to its end: ``pending`` (never published), ``sent`` (published
``publish_count`` times, last at ``sent_at``, not yet confirmed by the handler side),
``handled`` (confirmed at ``handled_at``: done or dead-lettered by the handler; may be
pruned), ``dead`` (never confirmed after the relay's last republish: dead-lettered by
the relay with the reason ``never confirmed``). A broker can accept a message and still
lose it, so ``sent`` is not the end (see ``shims.confirm``).
"""

from __future__ import annotations

from django.db import models

__all__ = ["OutboxEvent", "RoutePermissions"]


class State(models.TextChoices):  # type: ignore[misc]  # no django-stubs
    PENDING = "pending"
    SENT = "sent"
    HANDLED = "handled"
    DEAD = "dead"


class OutboxEvent(models.Model):  # type: ignore[misc]  # no django-stubs
    event_id = models.CharField(max_length=64, unique=True)
    task = models.CharField(max_length=200)
    feature = models.CharField(max_length=200, db_index=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    claim_token = models.CharField(max_length=32, blank=True, default="", db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    publish_count = models.PositiveIntegerField(default=0)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "strangler"
        ordering = ("id",)
        verbose_name = "outbox event"
        indexes = (
            models.Index(fields=("sent_at", "id"), name="strangler_outbox_pending"),
            models.Index(fields=("state", "sent_at"), name="strangler_outbox_state"),
        )

    def __str__(self) -> str:
        return f"{self.feature} {self.event_id} ({self.state})"


class RoutePermissions(models.Model):  # type: ignore[misc]  # no django-stubs
    """No table: only carries ``strangler.change_route``, the right to change live routing.

    Routes live in the route store, not in a Django model, so the permission needs a
    model of its own to hang on. Staff may *see* the routes page; changing a route sends
    real traffic somewhere else, so it takes this permission (or a superuser).
    """

    class Meta:
        app_label = "strangler"
        managed = False
        default_permissions = ()
        permissions = (("change_route", "Can change feature routes (live traffic)"),)
