"""Helpers shared by the apps' tests (factories, a tiny image, a cart stand-in)."""
import io
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image

from accounts.models import Customer
from catalog.models import Category, Product, Stock
from core.utils import quantize
from orders.models import Order, OrderLine
from payments.models import Payment

_counter = {"n": 0}


def _next():
    _counter["n"] += 1
    return _counter["n"]


def make_category(name="Coffee"):
    n = _next()
    return Category.objects.create(name=name, slug=f"{name.lower()}-{n}")


def make_product(name="Mug", price="10.00", stock=10, weight_grams=500, category=None, sale_price=None, is_active=True):
    n = _next()
    product = Product.objects.create(
        category=category or make_category(),
        name=name,
        slug=f"{name.lower().replace(' ', '-')}-{n}",
        sku=f"SKU-{n:04d}",
        price=Decimal(price),
        sale_price=Decimal(sale_price) if sale_price is not None else None,
        weight_grams=weight_grams,
        is_active=is_active,
    )
    if stock is not None:
        Stock.objects.create(product=product, quantity=stock)
    return product


def make_customer(username=None, country="FR", staff=False, email=None):
    username = username or f"user{_next()}"
    user = get_user_model().objects.create_user(
        username=username, email=email or f"{username}@example.com", password="pw-for-tests", is_staff=staff
    )
    return Customer.objects.create(
        user=user, country=country, address_line1="1 Test Street", city="Testville", postcode="12345"
    )


def make_staff(username="staff"):
    return get_user_model().objects.create_user(username=username, email=f"{username}@example.com", password="pw", is_staff=True)


def make_paid_order(customer, items, status="paid", created_at=None, shipping="4.90", tax_rate="0.20"):
    """An order as checkout would have left it, written directly (no stock, no gateway)."""
    subtotal = quantize(sum((Decimal(str(p.price)) * q for p, q in items), start=Decimal("0")))
    shipping = Decimal(shipping)
    tax = quantize((subtotal + shipping) * Decimal(tax_rate))
    when = created_at or timezone.now()
    order = Order.objects.create(
        customer=customer,
        status=status,
        country=customer.country,
        shipping_address=customer.shipping_address(),
        subtotal=subtotal,
        shipping_cost=shipping,
        tax=tax,
        total=subtotal + shipping + tax,
        created_at=when,
        paid_at=when,
    )
    for product, quantity in items:
        OrderLine.objects.create(
            order=order,
            product=product,
            sku=product.sku,
            name=product.name,
            quantity=quantity,
            unit_price=product.price,
            line_total=quantize(Decimal(str(product.price)) * quantity),
        )
    Payment.objects.create(
        order=order, amount=order.total, currency=order.currency, status="captured", provider_ref=f"ch_test{order.pk}", card_last4="4242"
    )
    return order


def tiny_png(size=(40, 30), color=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


class FakeCart:
    """Duck-typed stand-in for orders.cart.Cart when calling place_order directly."""

    def __init__(self, items):
        self.items = items

    def lines(self):
        return [
            {"product": p, "quantity": q, "unit_price": p.price, "line_total": quantize(Decimal(str(p.price)) * q)}
            for p, q in self.items
        ]

    def subtotal(self):
        return quantize(sum((line["line_total"] for line in self.lines()), start=Decimal("0")))

    def weight_grams(self):
        return sum(p.weight_grams * q for p, q in self.items)
