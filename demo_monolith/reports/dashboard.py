from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Sum
from django.utils import timezone

from catalog.models import Stock
from core.utils import get_int_param, quantize
from orders.models import Order, OrderLine

SOLD = ["paid", "shipped"]


def build_dashboard(request):
    """Numbers for the staff dashboard; the window comes from ?days= on the request."""
    days = get_int_param(request, "days", default=30, minimum=1, maximum=settings.REPORT_MAX_DAYS)
    since = timezone.now() - timedelta(days=days)
    orders = Order.objects.filter(created_at__gte=since)
    sold = orders.filter(status__in=SOLD)
    revenue = sold.aggregate(total=Sum("total"))["total"] or 0
    by_status = dict(orders.values_list("status").annotate(n=Count("id")).order_by())
    top = (
        OrderLine.objects.filter(order__in=sold)
        .values("sku", "name")
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"))
        .order_by("-units")[:5]
    )
    low_stock = Stock.objects.filter(quantity__lte=settings.LOW_STOCK_THRESHOLD).select_related("product").order_by("quantity")
    to_ship = orders.filter(status="paid").order_by("created_at")[:10]
    return {
        "days": days,
        "order_count": orders.count(),
        "revenue": quantize(revenue),
        "by_status": by_status,
        "top_products": list(top),
        "low_stock": list(low_stock[:10]),
        "to_ship": list(to_ship),
        "stock_value": quantize(
            Stock.objects.aggregate(v=Sum(F("quantity") * F("product__price")))["v"] or 0
        ),
        "viewer": request.user.get_username(),
    }
