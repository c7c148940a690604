from django.core import mail
from django.test import RequestFactory, TestCase

from notifications.emails import (
    send_order_confirmation,
    send_shipping_notification,
    send_welcome_email,
)
from shipping.models import Shipment
from shop.tests.factories import make_customer, make_paid_order, make_product


class OrderEmailTests(TestCase):
    def setUp(self):
        self.customer = make_customer("dana", email="dana@example.com")
        self.order = make_paid_order(self.customer, [(make_product("Hand Grinder", price="89.00"), 1)])

    def test_order_confirmation(self):
        send_order_confirmation(self.order)
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["dana@example.com"])
        self.assertEqual(message.bcc, ["archive@demo-shop.example"])
        self.assertEqual(message.subject, f"[Demo Shop] Order {self.order.number} confirmed")
        self.assertIn("1 x Hand Grinder  89.00 €", message.body)
        self.assertIn("Total: 112.68 €", message.body)
        html, mimetype = message.alternatives[0]
        self.assertEqual(mimetype, "text/html")
        self.assertIn("<strong>" + self.order.number + "</strong>", html)

    def test_shipping_notification_has_tracking(self):
        Shipment.objects.create(order=self.order, carrier="colissimo", tracking_number="6A123")
        send_shipping_notification(self.order)
        body = mail.outbox[0].body
        self.assertIn("6A123", body)
        self.assertIn("laposte.fr", body)
        self.assertIn("1 Test Street", body)
        self.assertEqual(mail.outbox[0].alternatives, [])


class WelcomeEmailTests(TestCase):
    def test_welcome_email_uses_request_host(self):
        request = RequestFactory().get("/", HTTP_HOST="localhost")
        user = make_customer("erin").user
        send_welcome_email(request, user)
        self.assertIn("http://localhost/accounts/profile/", mail.outbox[0].body)
