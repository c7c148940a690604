"""Read ``settings.STRANGLER`` for :func:`shims.config.load_settings`.

Lives in ``shims.django`` so that Django is imported only inside this package; the
import happens on the first call, never at ``shims`` import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["strangler_settings"]


def strangler_settings() -> Mapping[str, Any]:
    """The ``STRANGLER`` dict of the Django settings, or ``{}`` when Django is not set up.

    Settings are consulted only when they are already configured or a settings module
    is named in the environment: a plain worker must not trip over Django.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return {}
    try:
        value = getattr(settings, "STRANGLER", {})
    except (ImproperlyConfigured, ImportError):
        return {}
    return value if isinstance(value, Mapping) else {}
