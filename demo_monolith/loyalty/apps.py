from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"

    def ready(self):
        from loyalty import signals  # noqa: F401  (awards points when an order is paid)
