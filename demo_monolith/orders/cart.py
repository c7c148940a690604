"""
The shopping cart lives in the session: {"<product_id>": quantity}.

Everything here takes the request because the session is the storage.
"""
from django.conf import settings

from catalog.models import Product
from catalog.pricing import get_price
from core.utils import quantize

CART_SESSION_KEY = "cart"


class Cart:
    def __init__(self, request):
        self.request = request
        self.session = request.session
        self.data = self.session.setdefault(CART_SESSION_KEY, {})

    def __len__(self):
        return sum(self.data.values())

    def __bool__(self):
        return bool(self.data)

    def _save(self):
        self.session[CART_SESSION_KEY] = self.data
        self.session.modified = True

    def add(self, product_id, quantity=1, replace=False):
        key = str(product_id)
        current = 0 if replace else self.data.get(key, 0)
        new_quantity = min(current + int(quantity), settings.MAX_CART_QUANTITY)
        if new_quantity <= 0:
            self.data.pop(key, None)
        else:
            self.data[key] = new_quantity
        self._save()
        return self.data.get(key, 0)

    def remove(self, product_id):
        self.data.pop(str(product_id), None)
        self._save()

    def clear(self):
        self.data = {}
        self._save()

    def lines(self):
        ids = [int(k) for k in self.data]
        products = Product.objects.filter(pk__in=ids, is_active=True).select_related("stock")
        lines = []
        for product in products:
            quantity = self.data[str(product.pk)]
            unit_price = get_price(product.pk)
            lines.append(
                {
                    "product": product,
                    "quantity": quantity,
                    "unit_price": unit_price,
                    "line_total": quantize(unit_price * quantity),
                }
            )
        lines.sort(key=lambda line: line["product"].name)
        return lines

    def subtotal(self):
        return quantize(sum((line["line_total"] for line in self.lines()), start=quantize(0)))

    def weight_grams(self):
        return sum(line["product"].weight_grams * line["quantity"] for line in self.lines())


def get_cart(request):
    cart = getattr(request, "_cart", None)
    if cart is None:
        cart = Cart(request)
        request._cart = cart
    return cart
