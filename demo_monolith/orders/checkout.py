"""
Checkout: turn the session cart into a paid order.

Everything between reserving stock and capturing the payment must happen in
one database transaction: if the card is declined, the order, its lines, the
redeemed loyalty points and the stock decrement all roll back.
"""
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Stock
from core.utils import quantize, send_admin_alert, to_decimal
from loyalty.services import available_discount, redeem_points
from orders.models import Order, OrderLine
from payments import capture
from shipping.models import Shipment
from shipping.quotes import quote

logger = logging.getLogger("shop")


class CheckoutError(Exception):
    """Something the customer can fix (empty cart, not enough stock)."""


def place_order(customer, cart, card_token, use_points=False):
    """Create the order, decrement stock, redeem points and capture the payment, atomically."""
    lines = cart.lines()
    if not lines:
        raise CheckoutError("Your cart is empty.")
    subtotal = cart.subtotal()
    points, discount = available_discount(customer, subtotal) if use_points else (0, quantize(0))
    shipping = quote(customer.country, cart.weight_grams(), subtotal - discount)

    with transaction.atomic():
        product_ids = [line["product"].pk for line in lines]
        stocks = {s.product_id: s for s in Stock.objects.select_for_update().filter(product_id__in=product_ids)}
        for line in lines:
            stock = stocks.get(line["product"].pk)
            if stock is None or stock.quantity < line["quantity"]:
                raise CheckoutError(f"Sorry, {line['product'].name} is out of stock.")

        order = Order.objects.create(
            customer=customer,
            currency=settings.SHOP_CURRENCY,
            country=customer.country,
            shipping_address=customer.shipping_address(),
            subtotal=subtotal,
            discount=discount,
            shipping_cost=to_decimal(shipping["shipping"]),
            tax=to_decimal(shipping["tax"]),
            total=to_decimal(shipping["total"]),
            points_redeemed=points,
        )
        for line in lines:
            OrderLine.objects.create(
                order=order,
                product=line["product"],
                sku=line["product"].sku,
                name=line["product"].name,
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                line_total=line["line_total"],
            )
            Stock.objects.filter(pk=stocks[line["product"].pk].pk).update(quantity=F("quantity") - line["quantity"])
        if points:
            redeem_points(customer, points, order)
        capture.capture_payment(order, card_token)

    logger.info("order %s placed by customer %s: %s", order.number, customer.pk, order.total)
    if order.total >= settings.FREE_SHIPPING_OVER * 10:
        send_admin_alert(f"Big order {order.number}", f"Order total {order.total}")
    return order


def restock_order(order):
    """Put the items of a cancelled or refunded order back on the shelf."""
    for line in order.lines.all():
        Stock.objects.filter(product_id=line.product_id).update(quantity=F("quantity") + line.quantity)


def mark_shipped(order, carrier, tracking_number):
    """Record the shipment and flip the order to shipped."""
    with transaction.atomic():
        shipment = Shipment.objects.create(order=order, carrier=carrier, tracking_number=tracking_number)
        order.status = Order.Status.SHIPPED
        order.shipped_at = timezone.now()
        order.save(update_fields=["status", "shipped_at"])
    return shipment
