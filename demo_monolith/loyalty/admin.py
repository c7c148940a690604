from django.contrib import admin

from loyalty.models import LoyaltyAccount, PointsTransaction


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(admin.ModelAdmin):
    list_display = ["customer", "points", "lifetime_points", "updated_at"]


@admin.register(PointsTransaction)
class PointsTransactionAdmin(admin.ModelAdmin):
    list_display = ["account", "order", "kind", "points", "created_at"]
    list_filter = ["kind"]
