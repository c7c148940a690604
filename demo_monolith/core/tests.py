from datetime import date
from decimal import Decimal

from django.test import RequestFactory, SimpleTestCase, TestCase, override_settings
from django.urls import reverse

from core import utils


class MoneyTests(SimpleTestCase):
    def test_to_decimal(self):
        self.assertEqual(utils.to_decimal("12,5"), Decimal("12.5"))
        self.assertEqual(utils.to_decimal(0.1), Decimal("0.1"))
        self.assertEqual(utils.to_decimal("abc"), Decimal("0"))
        self.assertEqual(utils.to_decimal("nan"), Decimal("0"))
        self.assertEqual(utils.to_decimal(None, default=None), None)

    def test_format_money(self):
        self.assertEqual(utils.format_money("1234567.891"), "1,234,567.89 €")
        self.assertEqual(utils.format_money(-3, "USD"), "-$3.00")
        self.assertEqual(utils.format_money(5, "CHF"), "CHF 5.00")

    @override_settings(SHOP_CURRENCY="GBP")
    def test_format_money_uses_shop_currency(self):
        self.assertEqual(utils.format_money(2), "£2.00")

    def test_cents_round_trip(self):
        self.assertEqual(utils.cents("19.995"), 2000)
        self.assertEqual(utils.from_cents(1999), Decimal("19.99"))


class DateTests(SimpleTestCase):
    def test_parse_date(self):
        self.assertEqual(utils.parse_date_or_none("2026-02-03"), date(2026, 2, 3))
        self.assertEqual(utils.parse_date_or_none("03/02/2026"), date(2026, 2, 3))
        self.assertIsNone(utils.parse_date_or_none("yesterday"))

    @override_settings(REPORT_MAX_DAYS=10)
    def test_date_range_is_clamped(self):
        start, end = utils.date_range_or_default("2026-01-01", "2026-03-01")
        self.assertEqual((start, end), (date(2026, 2, 19), date(2026, 3, 1)))


class RequestHelperTests(SimpleTestCase):
    def test_client_ip_prefers_forwarded_for(self):
        request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")
        self.assertEqual(utils.get_client_ip(request), "203.0.113.9")
        self.assertEqual(utils.get_client_ip(RequestFactory().get("/")), "127.0.0.1")

    def test_rows_to_csv_and_chunked(self):
        self.assertEqual(utils.rows_to_csv(["a", "b"], [[1, "x,y"]]), 'a,b\n1,"x,y"\n')
        self.assertEqual(list(utils.chunked(range(5), 2)), [[0, 1], [2, 3], [4]])


class MiddlewareTests(TestCase):
    def test_request_id_header(self):
        response = self.client.get(reverse("catalog:product_list"), HTTP_X_REQUEST_ID="abc123")
        self.assertEqual(response["X-Request-Id"], "abc123")
        self.assertEqual(len(self.client.get(reverse("catalog:product_list"))["X-Request-Id"]), 32)
