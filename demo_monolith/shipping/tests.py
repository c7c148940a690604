from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import reverse

from shipping.quotes import QuoteError, quote


class QuoteTests(SimpleTestCase):
    def test_domestic_quote(self):
        self.assertEqual(
            quote("fr", 1800, "55.00"),
            {
                "country": "FR",
                "zone": "domestic",
                "currency": "EUR",
                "subtotal": "55.00",
                "shipping": "5.40",
                "free_shipping": False,
                "tax_rate": "0.20",
                "tax": "12.08",
                "total": "72.48",
            },
        )

    def test_free_shipping_over_threshold(self):
        result = quote("DE", 5000, "100.00")
        self.assertTrue(result["free_shipping"])
        self.assertEqual(result["shipping"], "0.00")
        self.assertEqual(result["tax"], "19.00")

    def test_world_zone_and_unknown_country_tax(self):
        result = quote("JP", 2500, "10")
        self.assertEqual(result["zone"], "world")
        self.assertEqual(result["shipping"], "27.90")  # 19.90 + 2 extra kg at 4.00
        self.assertEqual(result["tax_rate"], "0.20")

    @override_settings(FREE_SHIPPING_OVER=50)
    def test_threshold_comes_from_settings(self):
        self.assertTrue(quote("FR", 100, "60")["free_shipping"])

    def test_bad_input(self):
        for args in [("France", 100, "1"), ("FR", -1, "1"), ("FR", 10**6, "1"), ("FR", 100, "-5")]:
            with self.subTest(args=args), self.assertRaises(QuoteError):
                quote(*args)


class QuoteViewTests(TestCase):
    def test_quote_view(self):
        response = self.client.get(reverse("shipping:quote"), {"country": "IT", "weight": "900", "subtotal": "20"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["shipping"], "9.90")
        self.assertEqual(response.json()["tax_rate"], "0.22")

    def test_quote_view_rejects_bad_input(self):
        response = self.client.get(reverse("shipping:quote"), {"country": "IT", "weight": "heavy"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("error", response.json())
        self.assertEqual(self.client.post(reverse("shipping:quote")).status_code, 405)
