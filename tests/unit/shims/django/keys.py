"""Routing-key functions the middleware tests name in settings (by dotted path)."""

from __future__ import annotations

from django.http import HttpRequest


def tenant_header(request: HttpRequest) -> str | None:
    return request.headers.get("X-Tenant")


not_callable = "just a string"
