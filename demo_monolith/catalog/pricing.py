"""
Product prices, cached in-process.

The product list page used to run one query per product to work out the sale
price; in 2019 someone added this module-level cache "for now". The cache is
cleared by a post_save signal on Product (see catalog/signals.py), which only
works inside the process that saved the product.
"""
import time

from django.conf import settings

from catalog.models import Product
from core.utils import quantize

_PRICE_CACHE = {}


def get_price(product_id):
    """Current unit price of a product (sale price wins), cached per process."""
    entry = _PRICE_CACHE.get(product_id)
    now = time.monotonic()
    if entry is not None and now - entry[1] < settings.PRICE_CACHE_SECONDS:
        return entry[0]
    product = Product.objects.only("price", "sale_price").get(pk=product_id)
    price = product.sale_price if product.sale_price is not None else product.price
    price = quantize(price)
    _PRICE_CACHE[product_id] = (price, now)
    return price


def invalidate_price(product_id=None):
    if product_id is None:
        _PRICE_CACHE.clear()
    else:
        _PRICE_CACHE.pop(product_id, None)


def cache_size():
    return len(_PRICE_CACHE)
