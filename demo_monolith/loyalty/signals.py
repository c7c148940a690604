"""
Loyalty points are earned when an order becomes paid.

Connected with a lazy sender so loyalty does not import orders. The receiver
runs synchronously in whatever transaction saved the order - at checkout that
is place_order's transaction, so a failure here rolls the whole order back.
"""
from django.conf import settings
from django.db.models import F
from django.db.models.signals import post_save
from django.dispatch import receiver

from loyalty.models import LoyaltyAccount, PointsTransaction


@receiver(post_save, sender="orders.Order", dispatch_uid="loyalty_award_points")
def award_points(sender, instance, created, **kwargs):
    if instance.status != "paid":
        return
    if PointsTransaction.objects.filter(order_id=instance.pk, kind=PointsTransaction.Kind.EARN).exists():
        return
    points = int(instance.total) * settings.LOYALTY_POINTS_PER_UNIT
    if points <= 0:
        return
    account, _ = LoyaltyAccount.objects.get_or_create(customer_id=instance.customer_id)
    LoyaltyAccount.objects.filter(pk=account.pk).update(
        points=F("points") + points, lifetime_points=F("lifetime_points") + points
    )
    PointsTransaction.objects.create(account=account, order_id=instance.pk, kind=PointsTransaction.Kind.EARN, points=points)
