"""``RoutingKeyMiddleware``: the routing key of each request, in the shims' contextvar.

Canary routing is sticky per routing key, so a user must carry the same key on every
request. By default the key is the authenticated user's primary key (anonymous
requests have none, so canary decides per call for them). A project routes by
something else — a tenant, a session, a header — by naming a ``callable(request) ->
str | None`` in ``STRANGLER = {"ROUTING_KEY": "myproject.routing.tenant_key"}`` (or
``STRANGLER_ROUTING_KEY``).

Put it after ``AuthenticationMiddleware`` so ``request.user`` exists. The key is reset
after the response, so nothing leaks into the next request served by the same thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from shims.config import load_settings
from shims.context import routing_key

__all__ = ["KeyFunction", "RoutingKeyMiddleware", "user_key"]

KeyFunction = Callable[[HttpRequest], str | None]


def user_key(request: HttpRequest) -> str | None:
    """The authenticated user's primary key as a string; ``None`` when anonymous."""
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return str(user.pk)


class RoutingKeyMiddleware:
    """Sets :data:`shims.context.routing_key` for the duration of each request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.key_of = _configured_key_function()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self.key_of(request)
        token = routing_key.set(None if key is None else str(key))
        try:
            return self.get_response(request)
        finally:
            routing_key.reset(token)


def _configured_key_function() -> KeyFunction:
    try:
        dotted = load_settings().routing_key
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from exc
    if not dotted:
        return user_key
    try:
        function: KeyFunction = import_string(dotted)
    except ImportError as exc:
        raise ImproperlyConfigured(f"STRANGLER ROUTING_KEY {dotted!r}: {exc}") from exc
    if not callable(function):
        raise ImproperlyConfigured(f"STRANGLER ROUTING_KEY {dotted!r} is not callable")
    return function
