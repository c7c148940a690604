"""The Django app for strangler's runtime pieces (outbox table, routes admin)."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["StranglerConfig"]


class StranglerConfig(AppConfig):  # type: ignore[misc]  # no django-stubs
    name = "shims.django"
    label = "strangler"
    verbose_name = "strangler routing"
    default_auto_field = "django.db.models.BigAutoField"
