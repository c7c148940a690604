from decimal import Decimal

from django.core import mail
from django.test import TestCase
from django.urls import reverse

from catalog.models import Stock
from loyalty.models import LoyaltyAccount, PointsTransaction
from orders.checkout import CheckoutError, place_order
from orders.models import Order, OrderLine
from payments.capture import PaymentDeclined
from payments.models import Payment
from shipping.models import Shipment
from shop.tests.factories import FakeCart, make_customer, make_paid_order, make_product, make_staff


class CartViewTests(TestCase):
    def setUp(self):
        self.mug = make_product("Mug", price="12.00", stock=5)
        self.tea = make_product("Tea", price="4.50", stock=0)

    def test_add_then_view_cart(self):
        response = self.client.post(reverse("orders:cart_add"), {"product_id": self.mug.pk, "quantity": 2})
        self.assertRedirects(response, reverse("orders:cart"))
        response = self.client.get(reverse("orders:cart"))
        self.assertContains(response, "Mug")
        self.assertEqual(response.context["subtotal"], Decimal("24.00"))
        self.assertEqual(response.context["estimate"]["zone"], "domestic")

    def test_add_is_capped_by_stock(self):
        self.client.post(reverse("orders:cart_add"), {"product_id": self.mug.pk, "quantity": 9})
        response = self.client.get(reverse("orders:cart"), HTTP_ACCEPT="application/json")
        self.assertEqual(response.json()["lines"], [{"sku": self.mug.sku, "quantity": 5, "line_total": "60.00"}])

    def test_out_of_stock_product_is_refused(self):
        response = self.client.post(
            reverse("orders:cart_add"), {"product_id": self.tea.pk, "quantity": 1}, HTTP_ACCEPT="application/json"
        )
        self.assertEqual(response.status_code, 409)
        self.assertEqual(self.client.session.get("cart", {}), {})

    def test_invalid_add_returns_400_as_json(self):
        response = self.client.post(reverse("orders:cart_add"), {"product_id": "x"}, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("product_id", response.json()["errors"])

    def test_remove_from_cart(self):
        self.client.post(reverse("orders:cart_add"), {"product_id": self.mug.pk, "quantity": 1})
        response = self.client.post(reverse("orders:cart_remove", args=[self.mug.pk]))
        self.assertRedirects(response, reverse("orders:cart"))
        self.assertEqual(self.client.session["cart"], {})

    def test_cart_count_in_context(self):
        self.client.post(reverse("orders:cart_add"), {"product_id": self.mug.pk, "quantity": 3})
        response = self.client.get(reverse("catalog:product_list"))
        self.assertEqual(response.context["cart_count"], 3)


class CheckoutViewTests(TestCase):
    def setUp(self):
        self.customer = make_customer("alice", country="FR")
        self.client.force_login(self.customer.user)
        self.mug = make_product("Mug", price="20.00", stock=10, weight_grams=400)
        self.beans = make_product("Beans", price="15.00", stock=3, weight_grams=1000)

    def _fill_cart(self):
        self.client.post(reverse("orders:cart_add"), {"product_id": self.mug.pk, "quantity": 2})
        self.client.post(reverse("orders:cart_add"), {"product_id": self.beans.pk, "quantity": 1})

    def _checkout(self, token="tok_visa_4242", **extra):
        return self.client.post(reverse("orders:checkout"), {"card_token": token, "accept_terms": "on", **extra})

    def test_checkout_requires_login(self):
        self.client.logout()
        response = self.client.get(reverse("orders:checkout"))
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("accounts:login"), response.url)

    def test_checkout_with_empty_cart_redirects(self):
        response = self.client.get(reverse("orders:checkout"))
        self.assertRedirects(response, reverse("orders:cart"))

    def test_checkout_page_shows_quote(self):
        self._fill_cart()
        response = self.client.get(reverse("orders:checkout"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["estimate"]["subtotal"], "55.00")

    def test_successful_checkout(self):
        self._fill_cart()
        response = self._checkout()
        order = Order.objects.get()
        self.assertRedirects(response, order.get_absolute_url())
        # order and lines
        self.assertEqual(order.status, Order.Status.PAID)
        self.assertEqual(order.subtotal, Decimal("55.00"))
        self.assertEqual(order.shipping_cost, Decimal("5.40"))  # 1.8 kg domestic: 4.90 + 1 extra kg
        self.assertEqual(order.tax, Decimal("12.08"))
        self.assertEqual(order.total, Decimal("72.48"))
        self.assertEqual(OrderLine.objects.filter(order=order).count(), 2)
        # stock decremented
        self.assertEqual(Stock.objects.get(product=self.mug).quantity, 8)
        self.assertEqual(Stock.objects.get(product=self.beans).quantity, 2)
        # payment captured
        payment = Payment.objects.get(order=order)
        self.assertEqual(payment.status, Payment.Status.CAPTURED)
        self.assertEqual(payment.amount, order.total)
        self.assertEqual(payment.card_last4, "4242")
        # loyalty points via the post_save signal
        account = LoyaltyAccount.objects.get(customer=self.customer)
        self.assertEqual(account.points, 72)
        self.assertEqual(PointsTransaction.objects.get(order=order).kind, "earn")
        # confirmation e-mail, cart emptied
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn(order.number, mail.outbox[0].subject)
        self.assertEqual(mail.outbox[0].to, ["alice@example.com"])
        self.assertEqual(self.client.session["cart"], {})

    def test_declined_payment_rolls_everything_back(self):
        self._fill_cart()
        response = self._checkout(token="tok_declined")
        self.assertEqual(response.status_code, 402)
        self.assertContains(response, "declined", status_code=402)
        self.assertFalse(Order.objects.exists())
        self.assertFalse(OrderLine.objects.exists())
        self.assertFalse(Payment.objects.exists())
        self.assertFalse(PointsTransaction.objects.exists())
        self.assertEqual(Stock.objects.get(product=self.mug).quantity, 10)
        self.assertEqual(Stock.objects.get(product=self.beans).quantity, 3)
        self.assertEqual(mail.outbox, [])
        self.assertNotEqual(self.client.session["cart"], {})

    def test_checkout_redeems_loyalty_points(self):
        LoyaltyAccount.objects.create(customer=self.customer, points=1000, lifetime_points=1000)
        self._fill_cart()
        self._checkout(use_points="on")
        order = Order.objects.get()
        self.assertEqual(order.points_redeemed, 1000)
        self.assertEqual(order.discount, Decimal("10.00"))
        self.assertEqual(order.tax, Decimal("10.08"))  # (55 - 10 + 5.40) * 0.20
        account = LoyaltyAccount.objects.get(customer=self.customer)
        self.assertEqual(account.points, int(order.total))  # 1000 spent, then earned on the total
        kinds = sorted(PointsTransaction.objects.values_list("kind", "points"))
        self.assertEqual(kinds, [("earn", int(order.total)), ("redeem", -1000)])

    def test_declined_payment_keeps_loyalty_points(self):
        LoyaltyAccount.objects.create(customer=self.customer, points=500)
        self._fill_cart()
        self._checkout(token="tok_insufficient_funds", use_points="on")
        self.assertEqual(LoyaltyAccount.objects.get(customer=self.customer).points, 500)

    def test_checkout_form_errors(self):
        self._fill_cart()
        response = self.client.post(reverse("orders:checkout"), {"card_token": "tok_visa"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("accept_terms", response.context["form"].errors)
        self.assertFalse(Order.objects.exists())


class PlaceOrderTests(TestCase):
    def setUp(self):
        self.customer = make_customer(country="DE")
        self.product = make_product("Kettle", price="59.00", stock=1, weight_grams=1100)

    def test_insufficient_stock_raises_and_writes_nothing(self):
        with self.assertRaises(CheckoutError):
            place_order(self.customer, FakeCart([(self.product, 2)]), "tok_visa")
        self.assertFalse(Order.objects.exists())
        self.assertEqual(Stock.objects.get(product=self.product).quantity, 1)

    def test_empty_cart_raises(self):
        with self.assertRaises(CheckoutError):
            place_order(self.customer, FakeCart([]), "tok_visa")

    def test_declined_raises_payment_declined(self):
        with self.assertRaises(PaymentDeclined):
            place_order(self.customer, FakeCart([(self.product, 1)]), "tok_declined")
        self.assertEqual(Stock.objects.get(product=self.product).quantity, 1)

    def test_eu_order_uses_destination_vat(self):
        order = place_order(self.customer, FakeCart([(self.product, 1)]), "tok_visa")
        self.assertEqual(order.country, "DE")
        self.assertEqual(order.shipping_cost, Decimal("11.40"))  # eu: 9.90 + 1.50 for the 2nd kg
        self.assertEqual(order.tax, Decimal("13.38"))  # 19% of 70.40 = 13.376
        self.assertEqual(Stock.objects.get(product=self.product).quantity, 0)


class OrderPagesTests(TestCase):
    def setUp(self):
        self.customer = make_customer("bob")
        self.product = make_product("Grinder", price="89.00")
        self.order = make_paid_order(self.customer, [(self.product, 1)])

    def test_order_list_shows_own_orders(self):
        other = make_customer("carol")
        make_paid_order(other, [(self.product, 2)])
        self.client.force_login(self.customer.user)
        response = self.client.get(reverse("orders:order_list"))
        self.assertContains(response, self.order.number)
        self.assertEqual(len(response.context["page"].object_list), 1)

    def test_order_list_status_filter(self):
        self.client.force_login(self.customer.user)
        response = self.client.get(reverse("orders:order_list"), {"status": "shipped"})
        self.assertEqual(len(response.context["page"].object_list), 0)

    def test_order_detail_owner_and_json(self):
        self.client.force_login(self.customer.user)
        response = self.client.get(self.order.get_absolute_url())
        self.assertContains(response, "Grinder")
        response = self.client.get(self.order.get_absolute_url(), HTTP_ACCEPT="application/json")
        self.assertEqual(response.json()["lines"], [{"sku": self.product.sku, "quantity": 1}])

    def test_order_detail_of_someone_else_is_404(self):
        self.client.force_login(make_customer("mallory").user)
        self.assertEqual(self.client.get(self.order.get_absolute_url()).status_code, 404)

    def test_staff_ships_order_and_customer_is_told(self):
        self.client.force_login(make_staff())
        response = self.client.post(
            reverse("orders:ship_order", args=[self.order.pk]), {"carrier": "dhl", "tracking_number": "JD0123"}
        )
        self.assertRedirects(response, self.order.get_absolute_url(), fetch_redirect_response=False)
        self.order.refresh_from_db()
        self.assertEqual(self.order.status, Order.Status.SHIPPED)
        self.assertIsNotNone(self.order.shipped_at)
        self.assertEqual(Shipment.objects.get(order=self.order).tracking_number, "JD0123")
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("JD0123", mail.outbox[0].body)
        self.assertIn("dhl.com", mail.outbox[0].body)

    def test_cannot_ship_twice(self):
        self.client.force_login(make_staff())
        url = reverse("orders:ship_order", args=[self.order.pk])
        self.client.post(url, {"carrier": "ups", "tracking_number": "1Z"})
        self.client.post(url, {"carrier": "ups", "tracking_number": "1Z"})
        self.assertEqual(Shipment.objects.filter(order=self.order).count(), 1)
        self.assertEqual(len(mail.outbox), 1)

    def test_customer_cannot_ship(self):
        self.client.force_login(self.customer.user)
        response = self.client.post(reverse("orders:ship_order", args=[self.order.pk]), {"carrier": "dhl", "tracking_number": "X"})
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Shipment.objects.exists())
