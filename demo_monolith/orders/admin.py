from django.contrib import admin

from orders.models import Order, OrderLine, OrderNote


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = ["sku", "name", "quantity", "unit_price", "line_total"]


class OrderNoteInline(admin.TabularInline):
    model = OrderNote
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "total", "currency", "country", "created_at"]
    list_filter = ["status", "country"]
    search_fields = ["number", "customer__user__email"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, OrderNoteInline]
