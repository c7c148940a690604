from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("catalog.urls")),
    path("accounts/", include("accounts.urls")),
    path("orders/", include("orders.urls")),
    path("payments/", include("payments.urls")),
    path("loyalty/", include("loyalty.urls")),
    path("invoices/", include("invoices.urls")),
    path("reports/", include("reports.urls")),
    path("shipping/", include("shipping.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
