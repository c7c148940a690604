"""URLconf for strangler's own Django tests: the admin (routes admin lives there)."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("strangler/", include("shims.django.urls")),
]
