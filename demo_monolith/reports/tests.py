import csv
import io
import os
import tempfile
from datetime import datetime, timezone

from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse

from reports.sales import sales_report_csv
from shop.tests.factories import (
    make_category,
    make_customer,
    make_paid_order,
    make_product,
    make_staff,
)


def at(day):
    return datetime(2026, 3, day, 12, 0, tzinfo=timezone.utc)


def sections(text):
    return [list(csv.reader(io.StringIO(block))) for block in text.strip().split("\n\n")]


class SalesReportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        coffee, cups = make_category("Coffee"), make_category("Cups")
        cls.beans = make_product("Beans", price="10.00", category=coffee)
        cls.mug = make_product("Mug", price="5.00", category=cups)
        fr, de = make_customer(country="FR"), make_customer(country="DE")
        make_paid_order(fr, [(cls.beans, 2), (cls.mug, 1)], created_at=at(1))  # 25 + 4.90, tax 5.98
        make_paid_order(de, [(cls.beans, 1)], created_at=at(2), status="shipped")  # 10 + 4.90, tax 2.98
        make_paid_order(de, [(cls.mug, 4)], created_at=at(2), status="refunded")  # excluded
        make_paid_order(fr, [(cls.mug, 9)], created_at=at(20))  # out of range

    def test_report_sections(self):
        totals, per_day, per_country, per_product, per_category = sections(sales_report_csv("2026-03-01", "2026-03-10"))
        self.assertEqual(totals[1][:9], ["sales", "2026-03-01", "2026-03-10", "EUR", "2", "53.76", "8.96", "9.80", "0.00"])
        self.assertEqual(per_day[1:], [["2026-03-01", "1", "35.88"], ["2026-03-02", "1", "17.88"]])
        self.assertEqual(per_country[1:], [["FR", "1", "35.88"], ["DE", "1", "17.88"]])
        self.assertEqual(
            per_product[1:],
            [[self.beans.sku, "Beans", "3", "2", "30.00", "10"], [self.mug.sku, "Mug", "1", "1", "5.00", "10"]],
        )
        self.assertEqual(per_category[1:], [["Coffee", "3", "30.00"], ["Cups", "1", "5.00"]])

    def test_swapped_dates_are_fixed(self):
        self.assertEqual(sales_report_csv("2026-03-10", "2026-03-01"), sales_report_csv("2026-03-01", "2026-03-10"))

    def test_csv_view_is_staff_only(self):
        url = reverse("reports:sales_csv")
        self.assertEqual(self.client.get(url).status_code, 302)
        self.client.force_login(make_staff())
        response = self.client.get(url, {"start": "2026-03-01", "end": "2026-03-31"})
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        self.assertIn("sales-2026-03-01-2026-03-31.csv", response["Content-Disposition"])
        self.assertEqual(sections(response.content.decode())[0][1][4], "3")

    def test_export_sales_command(self):
        fd, path = tempfile.mkstemp(suffix=".csv")
        os.close(fd)
        self.addCleanup(os.unlink, path)
        call_command("export_sales", start="2026-03-01", end="2026-03-10", output=path, stdout=io.StringIO())
        with open(path, encoding="utf-8") as fh:
            self.assertEqual(fh.read(), sales_report_csv("2026-03-01", "2026-03-10"))


class DashboardTests(TestCase):
    def test_dashboard(self):
        customer = make_customer()
        product = make_product("Filter", price="5.50", stock=2)
        make_paid_order(customer, [(product, 4)])
        self.client.force_login(make_staff())
        response = self.client.get(reverse("reports:dashboard"), {"days": "7"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["days"], 7)
        self.assertEqual(response.context["order_count"], 1)
        self.assertEqual(response.context["top_products"][0]["units"], 4)
        self.assertEqual([s.product for s in response.context["low_stock"]], [product])
        self.assertContains(response, "Filter")

    def test_dashboard_is_staff_only(self):
        self.client.force_login(make_customer().user)
        self.assertEqual(self.client.get(reverse("reports:dashboard")).status_code, 302)
