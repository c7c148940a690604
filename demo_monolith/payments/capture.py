"""
Capturing and refunding card payments.

capture_payment() is called by orders.checkout.place_order inside its
transaction, and refund_payment() needs orders.checkout.restock_order, hence
the two modules import each other (module imports only, so it loads either way).
"""
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.utils import mask_card, send_admin_alert
from orders import checkout
from orders.models import Order
from payments import gateway
from payments.models import Payment

logger = logging.getLogger("shop")


class PaymentDeclined(Exception):
    pass


def capture_payment(order, card_token):
    """Charge the card for order.total, record the payment and mark the order paid."""
    result = gateway.charge(card_token, order.total, order.currency, reference=order.number)
    if not result.ok:
        logger.warning("payment declined for order %s (%s)", order.number, mask_card(card_token))
        raise PaymentDeclined(result.message)
    payment = Payment.objects.create(
        order=order,
        amount=order.total,
        currency=order.currency,
        status=Payment.Status.CAPTURED,
        provider=settings.PAYMENT_GATEWAY,
        provider_ref=result.reference,
        card_last4=card_token[-4:],
    )
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    order.save(update_fields=["status", "paid_at"])
    return payment


@transaction.atomic
def refund_payment(payment, reason=""):
    """Refund a captured payment in full, put the goods back in stock."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.CAPTURED:
        raise ValueError("Only captured payments can be refunded.")
    result = gateway.refund(payment.provider_ref, payment.amount, payment.currency)
    if not result.ok:
        send_admin_alert("Refund failed", f"{payment.provider_ref}: {result.message}")
        raise PaymentDeclined(result.message)
    payment.status = Payment.Status.REFUNDED
    payment.refunded_at = timezone.now()
    payment.save(update_fields=["status", "refunded_at"])
    order = payment.order
    checkout.restock_order(order)
    order.status = Order.Status.REFUNDED
    order.save(update_fields=["status"])
    if reason:
        order.notes.create(text=f"Refunded: {reason}")
    return payment
