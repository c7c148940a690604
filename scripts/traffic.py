"""Drive realistic traffic through demo_monolith, in-process, with Django's test client.

Usage (from the repository root)::

    .venv/bin/python scripts/traffic.py --settings shop.settings --iterations 50 --users 5
    .venv/bin/python scripts/traffic.py --seconds 10 --users 20 --json

Every run migrates and seeds its own SQLite database and media folder in a temporary
directory, so the repository is never written to. Each simulated customer logs in as
its own user, so requests carry different user ids (the routing key that sticky canary
routing hashes). Staff traffic (image uploads, reports, shipping) is mixed in.

The exit status is 1 when any request answered 5xx, 2 for bad options, 0 otherwise.
A hand-written driver rather than locust: the point is the in-process test client,
which needs no server and exercises the monolith exactly as its own tests do.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MONOLITH = REPO_ROOT / "demo_monolith"
COUNTRIES = ["FR", "DE", "IT", "ES", "NL", "BE", "GB", "US", "JP"]
DECLINED_TOKEN = "tok_declined"  # noqa: S105 - the fake gateway's test card, not a secret


@dataclass
class Endpoint:
    """Counters for one (method, url name) pair."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "requests": len(lat),
            "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
            "mean_ms": round(statistics.fmean(lat), 2) if lat else 0.0,
            "p95_ms": round(lat[max(0, int(len(lat) * 0.95) - 1)], 2) if lat else 0.0,
        }


@dataclass
class Summary:
    """What one run did: requests per endpoint, status codes, requests per user."""

    iterations: int = 0
    seconds: float = 0.0
    endpoints: dict[str, Endpoint] = field(default_factory=lambda: defaultdict(Endpoint))
    per_user: Counter[str] = field(default_factory=Counter)
    orders_placed: int = 0

    @property
    def requests(self) -> int:
        return sum(len(e.latencies_ms) for e in self.endpoints.values())

    @property
    def statuses(self) -> Counter[int]:
        total: Counter[int] = Counter()
        for endpoint in self.endpoints.values():
            total.update(endpoint.statuses)
        return total

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)

    def as_dict(self) -> dict[str, Any]:
        return {
            "iterations": self.iterations,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "orders_placed": self.orders_placed,
            "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
            "endpoints": {name: e.as_dict() for name, e in sorted(self.endpoints.items())},
            "per_user": dict(sorted(self.per_user.items())),
        }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Drive traffic through demo_monolith in-process.")
    parser.add_argument("--settings", default="shop.settings", help="Django settings module")
    parser.add_argument(
        "--monolith", type=Path, default=DEFAULT_MONOLITH, help="folder put on sys.path"
    )
    parser.add_argument("--iterations", type=int, default=None, help="customer journeys to run")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--users", type=int, default=3, help="distinct logged-in customers")
    parser.add_argument("--decline-rate", type=float, default=0.1, help="share of declined cards")
    parser.add_argument(
        "--staff-every", type=int, default=10, help="staff actions every N journeys"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (runs are repeatable)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if args.iterations is None and args.seconds is None:
        args.iterations = 20
    if args.iterations is not None and args.iterations < 1:
        parser.error("--iterations must be at least 1")
    if args.seconds is not None and args.seconds <= 0:
        parser.error("--seconds must be positive")
    if args.users < 1:
        parser.error("--users must be at least 1")
    if not 0 <= args.decline_rate <= 1:
        parser.error("--decline-rate must be between 0 and 1")
    if args.staff_every < 1:
        parser.error("--staff-every must be at least 1")
    if not (args.monolith / "manage.py").is_file():
        parser.error(f"--monolith {args.monolith} has no manage.py")
    sys.path.insert(0, str(args.monolith.resolve()))
    if not settings_importable(args.settings):
        parser.error(f"--settings {args.settings} is not importable from {args.monolith}")
    return args


def settings_importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@contextmanager
def django_sandbox(settings_module: str, monolith: Path) -> Iterator[Path]:
    """Configure Django on a throw-away SQLite db and media folder; yield the temp dir."""
    if str(monolith) not in sys.path:
        sys.path.insert(0, str(monolith))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    with tempfile.TemporaryDirectory(prefix="shop-traffic-") as tmp:
        from django.conf import settings

        databases = dict(settings.DATABASES)
        databases["default"] = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": f"{tmp}/shop.sqlite3",
        }
        settings.DATABASES = databases
        settings.MEDIA_ROOT = f"{tmp}/media"
        import django
        from django.test.utils import setup_test_environment

        django.setup()
        setup_test_environment()  # locmem e-mail, 'testserver' allowed, response.context
        logging.getLogger("django.request").setLevel(logging.ERROR)  # 402s/404s are expected
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", interactive=False, verbosity=0)
        try:
            yield Path(tmp)
        finally:
            connections.close_all()


class Driver:
    """Runs customer journeys and staff actions, recording every response."""

    def __init__(self, args: argparse.Namespace, summary: Summary) -> None:
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client

        self.args = args
        self.summary = summary
        self.rng = random.Random(args.seed)
        call_command(
            "seed_shop",
            customers=args.users,
            orders=20,
            stock=1_000_000,
            seed=args.seed,
            stdout=io.StringIO(),
        )
        users = get_user_model().objects.filter(is_staff=False).order_by("pk")
        self.customers: list[tuple[str, Any]] = []
        for user in users:
            client = Client(raise_request_exception=False)
            client.force_login(user)
            self.customers.append((str(user.pk), client))
        self.staff = Client(raise_request_exception=False)
        self.staff.force_login(get_user_model().objects.get(username="staff"))
        self.anonymous = Client(raise_request_exception=False)
        self.product_ids, self.slugs = self._products()

    @staticmethod
    def _products() -> tuple[list[int], list[str]]:
        from catalog.models import Product

        rows = list(Product.objects.filter(is_active=True).values_list("pk", "slug"))
        return [pk for pk, _ in rows], [slug for _, slug in rows]

    def request(self, user: str, client: Any, method: str, path: str, **kwargs: Any) -> Any:
        from django.urls import resolve

        name = resolve(path.split("?", 1)[0]).view_name
        started = time.perf_counter()
        response = getattr(client, method)(path, **kwargs)
        endpoint = self.summary.endpoints[f"{method.upper()} {name}"]
        endpoint.latencies_ms.append((time.perf_counter() - started) * 1000)
        endpoint.statuses[response.status_code] += 1
        self.summary.per_user[user] += 1
        return response

    def journey(self, iteration: int) -> None:
        """One customer: browse, fill the cart, quote, pay, look at the order and invoice."""
        from django.urls import reverse

        user, client = self.customers[iteration % len(self.customers)]
        rng = self.rng
        self.request("anonymous", self.anonymous, "get", reverse("catalog:product_list"))
        self.request(
            user, client, "get", reverse("catalog:product_list") + f"?page={rng.randint(1, 2)}"
        )
        slug = rng.choice(self.slugs)
        self.request(user, client, "get", reverse("catalog:product_detail", args=[slug]))
        for product_id in rng.sample(self.product_ids, rng.randint(1, 2)):
            data = {"product_id": product_id, "quantity": rng.randint(1, 2)}
            self.request(user, client, "post", reverse("orders:cart_add"), data=data)
        self.request(user, client, "get", reverse("orders:cart"))
        quote = {"country": rng.choice(COUNTRIES), "weight": rng.randint(100, 8000)}
        quote["subtotal"] = f"{rng.uniform(5, 150):.2f}"
        self.request(user, client, "get", reverse("shipping:quote"), data=quote)
        self.request(user, client, "get", reverse("orders:checkout"))
        declined = rng.random() < self.args.decline_rate
        token = DECLINED_TOKEN if declined else f"tok_visa_{rng.randint(1000, 9999)}"
        payment = {"card_token": token, "accept_terms": "on", "use_points": rng.random() < 0.3}
        response = self.request(user, client, "post", reverse("orders:checkout"), data=payment)
        if response.status_code == 302 and "/orders/" in response.url:
            self.after_order(user, client, response.url, iteration)
        if iteration % 3 == 0:
            self.request(user, client, "get", reverse("loyalty:balance"))

    def after_order(self, user: str, client: Any, order_url: str, iteration: int) -> None:
        from django.urls import resolve, reverse

        self.summary.orders_placed += 1
        self.request(user, client, "get", order_url)
        order_id = resolve(order_url).kwargs["order_id"]
        self.request(user, client, "get", reverse("invoices:invoice_html", args=[order_id]))
        if iteration % 5 == 0:
            self.request(user, client, "get", reverse("invoices:invoice_pdf", args=[order_id]))

    def staff_actions(self) -> None:
        """Upload a product image, ship the oldest paid order, pull the reports."""
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.urls import reverse
        from PIL import Image

        from orders.models import Order

        buf = io.BytesIO()
        Image.new("RGB", (96, 64), (self.rng.randrange(256), 90, 40)).save(buf, format="PNG")
        upload = SimpleUploadedFile("photo.png", buf.getvalue(), content_type="image/png")
        path = reverse("catalog:upload_image", args=[self.rng.choice(self.slugs)])
        self.request("staff", self.staff, "post", path, data={"image": upload})
        order = Order.objects.filter(status="paid").order_by("created_at").first()
        if order is not None:
            ship = {"carrier": "colissimo", "tracking_number": f"6A{order.pk:08d}"}
            self.request(
                "staff",
                self.staff,
                "post",
                reverse("orders:ship_order", args=[order.pk]),
                data=ship,
            )
        self.request("staff", self.staff, "get", reverse("reports:sales_csv"))
        self.request("staff", self.staff, "get", reverse("reports:dashboard"))

    def run(self, should_stop: Callable[[int], bool]) -> None:
        started = time.perf_counter()
        iteration = 0
        while not should_stop(iteration):
            self.journey(iteration)
            if (iteration + 1) % self.args.staff_every == 0:
                self.staff_actions()
            iteration += 1
        self.summary.iterations = iteration
        self.summary.seconds = time.perf_counter() - started


def stopper(iterations: int | None, seconds: float | None) -> Callable[[int], bool]:
    """Stop after `iterations` journeys or `seconds` of traffic, whichever comes first."""
    deadline = None if seconds is None else time.monotonic() + seconds

    def should_stop(done: int) -> bool:
        if iterations is not None and done >= iterations:
            return True
        return deadline is not None and time.monotonic() >= deadline

    return should_stop


def render(summary: Summary) -> str:
    rate = summary.requests / summary.seconds if summary.seconds else 0.0
    customers = len(set(summary.per_user) - {"anonymous", "staff"})
    lines = [
        f"traffic: {summary.iterations} journeys by {customers} customers (+ staff, anonymous): "
        f"{summary.requests} requests in {summary.seconds:.2f} s ({rate:.0f} req/s), "
        f"{summary.orders_placed} orders placed",
        "",
        f"{'endpoint':<36} {'requests':>8} {'statuses':<24} {'mean ms':>8} {'p95 ms':>8}",
    ]
    for name, endpoint in sorted(summary.endpoints.items()):
        data = endpoint.as_dict()
        statuses = " ".join(f"{code}x{n}" for code, n in data["statuses"].items())
        lines.append(
            f"{name:<36} {data['requests']:>8} {statuses:<24} "
            f"{data['mean_ms']:>8.1f} {data['p95_ms']:>8.1f}"
        )
    lines += [
        "",
        "status codes: " + ", ".join(f"{c}={n}" for c, n in sorted(summary.statuses.items())),
    ]
    users = ", ".join(f"{user}={n}" for user, n in sorted(summary.per_user.items()))
    lines.append(f"requests per user id: {users}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    sys.dont_write_bytecode = True  # leave no __pycache__ behind in the repository
    args = parse_args(argv)
    summary = Summary()
    with django_sandbox(args.settings, args.monolith.resolve()):
        driver = Driver(args, summary)
        driver.run(stopper(args.iterations, args.seconds))
    print(json.dumps(summary.as_dict(), indent=2) if args.json else render(summary))
    return 1 if summary.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
