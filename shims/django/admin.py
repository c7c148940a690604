"""The routes page for staff: see every route and change one, with a reason.

Routes live in the route store, not in a Django model, so this is a plain view served
through the admin site's ``admin_view`` wrapper: it inherits the admin's login
redirect, its staff-only check (``is_active`` and ``is_staff``), CSRF protection and
no-cache headers, and renders inside the admin's layout. Changing a route moves live
traffic, so a POST also needs the ``strangler.change_route`` permission (superusers
have it); other staff only see the page. Mount it with
``path("strangler/", include("shims.django.urls"))``. Every change is recorded in the
store's audit log with the Django user as the actor. Below the routes, staff see the
last few shadow mismatches of each routed feature (``strangler route mismatches``
shows more), escaped by the template like every stored value.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from shims.config import mask_url
from shims.routing import Mode
from shims.runtime import get_runtime
from shims.stores.base import StoreUnavailable, validate_route

__all__ = ["CHANGE_PERMISSION", "MISMATCHES_SHOWN", "routes_view"]


CHANGE_PERMISSION = "strangler.change_route"
MISMATCHES_SHOWN = 3  # per feature, newest first


def routes_view(request: HttpRequest) -> HttpResponse:
    """GET: the routes table (staff). POST: set one route (needs ``CHANGE_PERMISSION``)."""
    if request.method == "POST":
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied(f"changing a route needs the {CHANGE_PERMISSION} permission")
        return _set_route(request)
    return _render(request)


def _set_route(request: HttpRequest) -> HttpResponse:
    data = request.POST
    feature = data.get("feature", "").strip()
    raw_percent = data.get("percent", "").strip()
    try:
        route = validate_route(feature, data.get("mode", ""), _percent(raw_percent))
    except ValueError as exc:
        messages.error(request, str(exc))
        return _render(request, status=400)
    runtime = get_runtime()
    actor = request.user.get_username() if hasattr(request.user, "get_username") else "?"
    try:
        change = runtime.store.set(route, actor=actor, reason=data.get("reason", "").strip())
    except StoreUnavailable as exc:
        messages.error(request, str(exc))
        return _render(request, status=503)
    runtime.table.invalidate()  # this process sees it at once; the others within the TTL
    messages.success(
        request, f"{feature}: now {_mode_text(change.after.mode, change.after.percent)}"
    )
    return HttpResponseRedirect(reverse("strangler-routes"), status=303)


def _render(request: HttpRequest, status: int = 200) -> HttpResponse:
    runtime = get_runtime()
    store = runtime.store
    try:
        routes = sorted(store.all().values(), key=lambda r: r.feature)
        rows = [_row(r, store.history(r.feature, 1)) for r in routes]
        found = [m for r in routes for m in store.read_mismatches(r.feature, MISMATCHES_SHOWN)]
        error = None
    except StoreUnavailable as exc:
        rows, found, error, status = [], [], str(exc), 503
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Feature routes",
        "rows": rows,
        "mismatches": found,
        "mismatches_shown": MISMATCHES_SHOWN,
        "modes": [m.value for m in Mode],
        "store_url": mask_url(store.url),
        "ttl": runtime.settings.route_ttl,
        "store_error": error,
        "form": request.POST if request.method == "POST" else {},
        "can_change": request.user.has_perm(CHANGE_PERMISSION),
    }
    return TemplateResponse(request, "strangler/routes.html", context, status=status)


def _row(route: Any, last: list[Any]) -> dict[str, Any]:
    change = last[0] if last else None
    return {
        "feature": route.feature,
        "mode": _mode_text(route.mode, route.percent),
        "changed_by": change.actor if change else "",
        "changed_at": change.at if change else None,
        "reason": change.reason if change else "",
    }


def _percent(raw: str) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"percent must be a whole number 0-100, got {raw!r}") from None


def _mode_text(mode: Mode, percent: int) -> str:
    return f"canary {percent}%" if mode is Mode.CANARY else mode.value
