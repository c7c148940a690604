from django.conf import settings


def shop(request):
    return {
        "SHOP_NAME": settings.SHOP_NAME,
        "SHOP_CURRENCY": settings.SHOP_CURRENCY,
        "SHOP_SUPPORT_EMAIL": settings.SHOP_SUPPORT_EMAIL,
        "FREE_SHIPPING_OVER": settings.FREE_SHIPPING_OVER,
    }
