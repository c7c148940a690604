from django.contrib import admin

from accounts.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["user", "country", "city", "marketing_opt_in", "created_at"]
    list_filter = ["country", "marketing_opt_in"]
    search_fields = ["user__username", "user__email", "city"]
