from django.conf import settings

from accounts.models import Customer


def get_customer(request):
    """Return the Customer of the logged-in user, creating it on first use."""
    if not request.user.is_authenticated:
        return None
    customer = getattr(request, "_cached_customer", None)
    if customer is None:
        customer, _ = Customer.objects.get_or_create(
            user=request.user, defaults={"country": settings.SHOP_COUNTRY}
        )
        request._cached_customer = customer
    return customer
