"""
Transactional e-mails.

The callers never look at what these functions return; they fire and forget.
"""
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from core.utils import format_money

logger = logging.getLogger("shop")


def _send(subject, to, template, context, bcc=None):
    context = {"SHOP_NAME": settings.SHOP_NAME, "SHOP_SUPPORT_EMAIL": settings.SHOP_SUPPORT_EMAIL, **context}
    text_body = render_to_string(f"emails/{template}.txt", context)
    message = EmailMultiAlternatives(
        subject=f"[{settings.SHOP_NAME}] {subject}",
        body=text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        bcc=bcc or [],
    )
    try:
        html_body = render_to_string(f"emails/{template}.html", context)
    except Exception:  # noqa: BLE001 - text-only templates are fine
        html_body = None
    if html_body:
        message.attach_alternative(html_body, "text/html")
    return message.send()


def send_order_confirmation(order):
    """E-mail the customer a summary of a freshly paid order."""
    customer = order.customer
    lines = [
        {"name": line.name, "quantity": line.quantity, "total": format_money(line.line_total, order.currency)}
        for line in order.lines.all()
    ]
    context = {
        "order": order,
        "customer_name": str(customer),
        "lines": lines,
        "subtotal": format_money(order.subtotal, order.currency),
        "discount": format_money(order.discount, order.currency) if order.discount else "",
        "shipping": format_money(order.shipping_cost, order.currency),
        "tax": format_money(order.tax, order.currency),
        "total": format_money(order.total, order.currency),
    }
    sent = _send(f"Order {order.number} confirmed", customer.user.email, "order_confirmation", context, bcc=settings.ORDER_EMAIL_BCC)
    logger.info("confirmation for %s sent (%s)", order.number, sent)
    return sent


def send_shipping_notification(order):
    """Tell the customer their parcel is on its way, with the tracking number."""
    shipment = order.shipments.order_by("-shipped_at").first()
    context = {
        "order": order,
        "customer_name": str(order.customer),
        "carrier": shipment.carrier if shipment else "",
        "tracking_number": shipment.tracking_number if shipment else "",
        "tracking_url": shipment.tracking_url if shipment else "",
        "address": order.shipping_address,
    }
    return _send(f"Order {order.number} has shipped", order.customer.user.email, "shipping_notification", context)


def send_welcome_email(request, user):
    """Welcome a new customer. Needs the request to build absolute links."""
    context = {
        "username": user.username,
        "shop_url": request.build_absolute_uri(reverse("catalog:product_list")),
        "profile_url": request.build_absolute_uri(reverse("accounts:profile")),
    }
    return _send("Welcome!", user.email, "welcome", context)
