from decimal import ROUND_DOWN

from django.conf import settings
from django.db.models import F

from core.utils import quantize
from loyalty.models import LoyaltyAccount, PointsTransaction


def get_account(customer):
    account, _ = LoyaltyAccount.objects.get_or_create(customer=customer)
    return account


def available_discount(customer, subtotal):
    """How many points this customer may spend on this subtotal, and what they are worth."""
    account = LoyaltyAccount.objects.filter(customer=customer).first()
    if account is None or account.points <= 0:
        return 0, quantize(0)
    cap = quantize(subtotal) * settings.LOYALTY_MAX_REDEEM_RATIO
    max_points = int((cap / settings.LOYALTY_POINT_VALUE).to_integral_value(rounding=ROUND_DOWN))
    points = min(account.points, max_points)
    return points, quantize(points * settings.LOYALTY_POINT_VALUE)


def redeem_points(customer, points, order):
    """Spend points on an order. Called by checkout inside its transaction."""
    account = LoyaltyAccount.objects.select_for_update().get(customer=customer)
    if account.points < points:
        raise ValueError("Not enough loyalty points.")
    LoyaltyAccount.objects.filter(pk=account.pk).update(points=F("points") - points)
    PointsTransaction.objects.create(account=account, order=order, kind=PointsTransaction.Kind.REDEEM, points=-points)


def adjust_points(customer, points, reason=""):
    account = get_account(customer)
    LoyaltyAccount.objects.filter(pk=account.pk).update(points=F("points") + points)
    PointsTransaction.objects.create(account=account, kind=PointsTransaction.Kind.ADJUST, points=points)
    account.refresh_from_db()
    return account
