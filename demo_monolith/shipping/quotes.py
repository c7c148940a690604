"""
Shipping and tax quotes.

Pure arithmetic over settings: plain values in, a JSON-friendly dict out
(amounts as strings so nobody rounds them through a float).
"""
from django.conf import settings

from core.utils import quantize, tax_rate_for, to_decimal, weight_to_kg


class QuoteError(ValueError):
    pass


def zone_for(country):
    country = (country or "").upper()
    for name, zone in settings.SHIPPING_ZONES.items():
        if country in zone["countries"]:
            return name
    return "world"


def shipping_cost(country, weight_grams, subtotal):
    if to_decimal(subtotal) >= settings.FREE_SHIPPING_OVER:
        return quantize(0)
    zone = settings.SHIPPING_ZONES[zone_for(country)]
    extra_kg = weight_to_kg(weight_grams) - 1
    return quantize(zone["base"] + zone["per_kg"] * extra_kg)


def quote(country, weight_grams, subtotal):
    """Shipping, VAT and total for a parcel of weight_grams worth subtotal sent to country."""
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise QuoteError("country must be a two-letter ISO code")
    weight_grams = int(weight_grams)
    if weight_grams < 0 or weight_grams > settings.MAX_PARCEL_WEIGHT_GRAMS:
        raise QuoteError(f"weight must be between 0 and {settings.MAX_PARCEL_WEIGHT_GRAMS} grams")
    subtotal = quantize(subtotal)
    if subtotal < 0:
        raise QuoteError("subtotal must not be negative")
    shipping = shipping_cost(country, weight_grams, subtotal)
    rate = tax_rate_for(country)
    tax = quantize((subtotal + shipping) * rate)
    return {
        "country": country,
        "zone": zone_for(country),
        "currency": settings.SHOP_CURRENCY,
        "subtotal": str(subtotal),
        "shipping": str(shipping),
        "free_shipping": shipping == 0,
        "tax_rate": str(rate),
        "tax": str(tax),
        "total": str(quantize(subtotal + shipping + tax)),
    }
