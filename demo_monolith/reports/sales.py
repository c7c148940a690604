"""
The monthly sales export that finance opens in a spreadsheet.

Read-only aggregate queries over orders; takes ISO date strings (or dates)
and returns the CSV text.
"""
from django.conf import settings
from django.db.models import Avg, Count, Sum
from django.db.models.functions import TruncDate

from catalog.models import Stock
from core.utils import date_range_or_default, quantize, rows_to_csv
from orders.models import Order, OrderLine

SOLD_STATUSES = ["paid", "shipped"]


def _sold_orders(start, end):
    return Order.objects.filter(status__in=SOLD_STATUSES, created_at__date__gte=start, created_at__date__lte=end)


def _money(value):
    return str(quantize(value or 0))


def sales_report_csv(start, end):
    """Totals, sales per day, per country, per product and per category between start and end."""
    start, end = date_range_or_default(start, end)
    orders = _sold_orders(start, end)
    totals = orders.aggregate(
        orders=Count("id"),
        revenue=Sum("total"),
        tax=Sum("tax"),
        shipping=Sum("shipping_cost"),
        discounts=Sum("discount"),
        average=Avg("total"),
    )
    sections = [
        rows_to_csv(
            ["report", "start", "end", "currency", "orders", "revenue", "tax", "shipping", "discounts", "average_order"],
            [
                [
                    "sales",
                    start.isoformat(),
                    end.isoformat(),
                    settings.SHOP_CURRENCY,
                    totals["orders"],
                    _money(totals["revenue"]),
                    _money(totals["tax"]),
                    _money(totals["shipping"]),
                    _money(totals["discounts"]),
                    _money(totals["average"]),
                ]
            ],
        )
    ]

    per_day = orders.annotate(day=TruncDate("created_at")).values("day").annotate(orders=Count("id"), revenue=Sum("total")).order_by("day")
    sections.append(rows_to_csv(["day", "orders", "revenue"], [[row["day"].isoformat(), row["orders"], _money(row["revenue"])] for row in per_day]))

    per_country = orders.values("country").annotate(orders=Count("id"), revenue=Sum("total")).order_by("-revenue", "country")
    sections.append(rows_to_csv(["country", "orders", "revenue"], [[row["country"], row["orders"], _money(row["revenue"])] for row in per_country]))

    lines = OrderLine.objects.filter(order__in=orders)
    per_product = (
        lines.values("sku", "name")
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"), orders=Count("order", distinct=True))
        .order_by("-revenue", "sku")
    )
    stock = dict(Stock.objects.values_list("product__sku", "quantity"))
    sections.append(
        rows_to_csv(
            ["sku", "product", "units", "orders", "revenue", "stock_left"],
            [[row["sku"], row["name"], row["units"], row["orders"], _money(row["revenue"]), stock.get(row["sku"], "")] for row in per_product],
        )
    )

    per_category = lines.values("product__category__name").annotate(units=Sum("quantity"), revenue=Sum("line_total")).order_by("-revenue")
    sections.append(
        rows_to_csv(["category", "units", "revenue"], [[row["product__category__name"], row["units"], _money(row["revenue"])] for row in per_category])
    )
    return "\n".join(sections)
