from django.db import models


class LoyaltyAccount(models.Model):
    customer = models.OneToOneField("accounts.Customer", on_delete=models.CASCADE, related_name="loyalty")
    points = models.IntegerField(default=0)
    lifetime_points = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.customer}: {self.points} points"

    @property
    def tier(self):
        if self.lifetime_points >= 5000:
            return "gold"
        if self.lifetime_points >= 1000:
            return "silver"
        return "bronze"


class PointsTransaction(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", "Earned"
        REDEEM = "redeem", "Redeemed"
        ADJUST = "adjust", "Adjustment"

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.CASCADE, related_name="transactions")
    order = models.ForeignKey("orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="points_transactions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    points = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
