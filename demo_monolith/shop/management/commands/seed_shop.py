"""
Fill an empty database with a believable shop: categories, products with
stock, a staff user, customers and a few weeks of past orders.

    python manage.py seed_shop --customers 20 --orders 200 --seed 7
"""
import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Customer
from catalog.models import Category, Product, Stock
from catalog.pricing import invalidate_price
from core.utils import quantize, slugify_ascii, tax_rate_for
from orders.models import Order, OrderLine
from payments.models import Payment

CATALOG = {
    "Coffee": [("Ethiopia Yirgacheffe 250g", "12.50", 260), ("Colombia Huila 1kg", "38.00", 1020), ("Espresso Blend 500g", "17.90", 510)],
    "Tea": [("Sencha 100g", "9.80", 110), ("Assam Breakfast 250g", "11.20", 260), ("Earl Grey 100g", "8.40", 110)],
    "Brewing": [("Pour-over Dripper", "24.00", 350), ("Gooseneck Kettle", "59.00", 1100), ("Hand Grinder", "89.00", 700), ("Paper Filters x100", "5.50", 180)],
    "Cups": [("Stoneware Mug", "14.00", 420), ("Glass Cup Set", "22.00", 900), ("Travel Tumbler", "27.50", 380)],
}
COUNTRIES = ["FR", "FR", "FR", "DE", "IT", "ES", "NL", "BE", "GB", "US"]
CITIES = {"FR": "Lyon", "DE": "Berlin", "IT": "Milano", "ES": "Madrid", "NL": "Utrecht", "BE": "Gent", "GB": "Leeds", "US": "Boston"}


class Command(BaseCommand):
    help = "Seed the database with demo catalogue, customers and past orders."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=10)
        parser.add_argument("--orders", type=int, default=50, help="past orders to create")
        parser.add_argument("--stock", type=int, default=500, help="units in stock per product")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--password", default="demo-password", help="password of every seeded user")

    def handle(self, *args, **options):
        if Product.objects.exists():
            raise CommandError("The database already has products; seed_shop only fills an empty shop.")
        if options["customers"] < 0 or options["orders"] < 0 or options["stock"] < 0:
            raise CommandError("--customers, --orders and --stock must not be negative.")
        rng = random.Random(options["seed"])
        password_hash = make_password(options["password"])
        with transaction.atomic():
            products = self._catalog(options["stock"])
            customers = self._customers(options["customers"], password_hash)
            self._staff(password_hash)
            orders = self._orders(rng, customers, products, options["orders"]) if customers else 0
        invalidate_price()
        self.stdout.write(
            self.style.SUCCESS(f"seeded {len(products)} products, {len(customers)} customers, {orders} orders")
        )

    def _catalog(self, stock):
        products = []
        for n, (category_name, items) in enumerate(CATALOG.items(), start=1):
            category = Category.objects.create(name=category_name, slug=slugify_ascii(category_name))
            for m, (name, price, weight) in enumerate(items, start=1):
                product = Product.objects.create(
                    category=category,
                    name=name,
                    slug=slugify_ascii(name),
                    sku=f"{category_name[:3].upper()}-{n}{m:02d}",
                    description=f"{name}, from our {category_name.lower()} range.",
                    price=Decimal(price),
                    sale_price=quantize(Decimal(price) * Decimal("0.9")) if m == 1 else None,
                    weight_grams=weight,
                )
                Stock.objects.create(product=product, quantity=stock)
                products.append(product)
        return products

    def _customers(self, count, password_hash):
        User = get_user_model()
        customers = []
        for i in range(1, count + 1):
            country = COUNTRIES[i % len(COUNTRIES)]
            user = User.objects.create(
                username=f"customer{i}", email=f"customer{i}@example.com", first_name="Customer", last_name=str(i), password=password_hash
            )
            customers.append(
                Customer.objects.create(
                    user=user, country=country, city=CITIES[country], postcode=f"{10000 + i}", address_line1=f"{i} Main Street"
                )
            )
        return customers

    def _staff(self, password_hash):
        get_user_model().objects.create(
            username="staff", email="staff@demo-shop.example", is_staff=True, is_superuser=True, password=password_hash
        )

    def _orders(self, rng, customers, products, count):
        now = timezone.now()
        for i in range(count):
            customer = rng.choice(customers)
            picked = rng.sample(products, rng.randint(1, 3))
            lines = [(p, rng.randint(1, 3)) for p in picked]
            subtotal = quantize(sum((p.price * q for p, q in lines), start=Decimal("0")))
            shipping = Decimal("0.00") if subtotal >= 100 else Decimal("4.90")
            tax = quantize((subtotal + shipping) * tax_rate_for(customer.country))
            created = now - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
            status = rng.choice(["paid", "shipped", "shipped", "refunded"])
            order = Order.objects.create(
                customer=customer,
                status=status,
                country=customer.country,
                shipping_address=customer.shipping_address(),
                subtotal=subtotal,
                shipping_cost=shipping,
                tax=tax,
                total=subtotal + shipping + tax,
                created_at=created,
                paid_at=created,
                shipped_at=created + timedelta(days=1) if status == "shipped" else None,
            )
            OrderLine.objects.bulk_create(
                OrderLine(order=order, product=p, sku=p.sku, name=p.name, quantity=qty, unit_price=p.price, line_total=quantize(p.price * qty))
                for p, qty in lines
            )
            Payment.objects.create(
                order=order,
                amount=order.total,
                currency=order.currency,
                status="refunded" if status == "refunded" else "captured",
                provider_ref=f"ch_seed{i:06d}",
                card_last4="4242",
            )
        return count
