"""URLs of the staff routes page: ``path("strangler/", include("shims.django.urls"))``."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from shims.django.admin import routes_view

__all__ = ["urlpatterns"]

urlpatterns = [path("routes/", admin.site.admin_view(routes_view), name="strangler-routes")]
