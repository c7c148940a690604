from django.test import TestCase
from django.urls import reverse

from invoices.rendering import invoice_number, render_invoice, render_invoice_pdf
from shop.tests.factories import make_customer, make_paid_order, make_product, make_staff


class RenderInvoiceTests(TestCase):
    def setUp(self):
        self.customer = make_customer("frank")
        self.order = make_paid_order(self.customer, [(make_product("Stoneware Mug", price="14.00"), 3)])

    def test_html_invoice(self):
        html = render_invoice(self.order.pk)
        self.assertTrue(html.startswith("<!doctype html>"))
        self.assertIn(f"Invoice {invoice_number(self.order)}", html)
        self.assertIn("Stoneware Mug", html)
        self.assertIn("42.00 €", html)  # line total
        self.assertIn("VAT (20%)", html)
        self.assertIn(f"reference ch_test{self.order.pk}", html)

    def test_pdf_invoice_is_a_pdf(self):
        pdf = render_invoice_pdf(self.order.pk)
        self.assertTrue(pdf.startswith(b"%PDF-1.4"))
        self.assertTrue(pdf.rstrip().endswith(b"%%EOF"))
        self.assertIn(b"Stoneware Mug", pdf)
        startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
        self.assertEqual(pdf[startxref : startxref + 4], b"xref")


class InvoiceViewTests(TestCase):
    def setUp(self):
        self.customer = make_customer("gina")
        self.order = make_paid_order(self.customer, [(make_product("Kettle", price="59.00"), 1)])

    def test_owner_gets_html_and_pdf(self):
        self.client.force_login(self.customer.user)
        response = self.client.get(reverse("invoices:invoice_html", args=[self.order.pk]))
        self.assertContains(response, "Kettle")
        response = self.client.get(reverse("invoices:invoice_pdf", args=[self.order.pk]))
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertIn(invoice_number(self.order), response["Content-Disposition"])

    def test_staff_can_see_any_invoice(self):
        self.client.force_login(make_staff())
        self.assertEqual(self.client.get(reverse("invoices:invoice_html", args=[self.order.pk])).status_code, 200)

    def test_other_customer_gets_404(self):
        self.client.force_login(make_customer("henry").user)
        self.assertEqual(self.client.get(reverse("invoices:invoice_html", args=[self.order.pk])).status_code, 404)

    def test_unpaid_order_has_no_invoice(self):
        pending = make_paid_order(self.customer, [(make_product(), 1)], status="pending")
        self.client.force_login(self.customer.user)
        self.assertEqual(self.client.get(reverse("invoices:invoice_pdf", args=[pending.pk])).status_code, 404)
