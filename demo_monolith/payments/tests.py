from decimal import Decimal

from django.test import TestCase
from django.urls import reverse

from catalog.models import Stock
from orders.models import Order
from payments import gateway
from payments.capture import PaymentDeclined, capture_payment, refund_payment
from payments.models import Payment
from shop.tests.factories import make_customer, make_paid_order, make_product, make_staff


class GatewayTests(TestCase):
    def test_charge_references_are_deterministic(self):
        first = gateway.charge("tok_visa", Decimal("10.00"), "EUR", reference="SO-1")
        second = gateway.charge("tok_visa", Decimal("10.00"), "EUR", reference="SO-1")
        self.assertTrue(first.ok)
        self.assertEqual(first.reference, second.reference)
        self.assertTrue(first.reference.startswith("ch_"))

    def test_declines(self):
        self.assertFalse(gateway.charge("tok_declined", Decimal("10.00"), "EUR", "SO-1").ok)
        self.assertFalse(gateway.charge("", Decimal("10.00"), "EUR", "SO-1").ok)
        self.assertFalse(gateway.charge("tok_visa", Decimal("0.00"), "EUR", "SO-1").ok)


class CaptureTests(TestCase):
    def setUp(self):
        self.customer = make_customer()
        self.product = make_product("Mug", price="10.00", stock=5)
        self.order = make_paid_order(self.customer, [(self.product, 1)], status="pending")
        Payment.objects.filter(order=self.order).delete()

    def test_capture_writes_payment_and_marks_order_paid(self):
        payment = capture_payment(self.order, "tok_visa_1111")
        self.assertEqual(payment.amount, self.order.total)
        self.assertEqual(payment.card_last4, "1111")
        self.order.refresh_from_db()
        self.assertEqual(self.order.status, Order.Status.PAID)
        self.assertIsNotNone(self.order.paid_at)

    def test_declined_capture_writes_nothing(self):
        with self.assertRaises(PaymentDeclined):
            capture_payment(self.order, "tok_declined")
        self.assertFalse(Payment.objects.exists())
        self.order.refresh_from_db()
        self.assertEqual(self.order.status, Order.Status.PENDING)


class RefundTests(TestCase):
    def setUp(self):
        self.customer = make_customer()
        self.product = make_product("Mug", price="10.00", stock=5)
        self.order = make_paid_order(self.customer, [(self.product, 2)])
        self.payment = self.order.payments.get()

    def test_refund_view_restocks_and_marks_refunded(self):
        self.client.force_login(make_staff())
        response = self.client.post(reverse("payments:refund", args=[self.payment.pk]), {"reason": "broken"})
        self.assertRedirects(response, self.order.get_absolute_url(), fetch_redirect_response=False)
        self.payment.refresh_from_db()
        self.order.refresh_from_db()
        self.assertEqual(self.payment.status, Payment.Status.REFUNDED)
        self.assertEqual(self.order.status, Order.Status.REFUNDED)
        self.assertEqual(Stock.objects.get(product=self.product).quantity, 7)
        self.assertEqual(self.order.notes.get().text, "Refunded: broken")

    def test_refund_twice_is_refused(self):
        refund_payment(self.payment)
        with self.assertRaises(ValueError):
            refund_payment(self.payment)
        self.assertEqual(Stock.objects.get(product=self.product).quantity, 7)

    def test_payment_list_is_staff_only(self):
        self.client.force_login(self.customer.user)
        self.assertEqual(self.client.get(reverse("payments:payment_list")).status_code, 302)
        self.client.force_login(make_staff())
        response = self.client.get(reverse("payments:payment_list"), {"status": "captured"})
        self.assertContains(response, self.payment.provider_ref)


class ImportCycleTests(TestCase):
    def test_orders_and_payments_import_each_other(self):
        from orders import checkout
        from payments import capture

        self.assertIs(checkout.capture, capture)
        self.assertIs(capture.checkout, checkout)
