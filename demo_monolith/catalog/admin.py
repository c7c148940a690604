from django.contrib import admin

from catalog.models import Category, Product, Stock


class StockInline(admin.StackedInline):
    model = Stock


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "sale_price", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["sku", "name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [StockInline]
