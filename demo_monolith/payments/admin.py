from django.contrib import admin

from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["provider_ref", "order", "amount", "currency", "status", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["provider_ref", "order__number"]
    readonly_fields = ["created_at", "refunded_at"]
