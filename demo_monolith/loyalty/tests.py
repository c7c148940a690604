from decimal import Decimal

from django.test import TestCase
from django.urls import reverse

from loyalty.models import LoyaltyAccount, PointsTransaction
from loyalty.services import adjust_points, available_discount
from shop.tests.factories import make_customer, make_paid_order, make_product


class AwardPointsSignalTests(TestCase):
    def setUp(self):
        self.customer = make_customer()
        self.product = make_product(price="40.00")

    def test_paid_order_earns_points(self):
        order = make_paid_order(self.customer, [(self.product, 2)])  # 80 + 4.90 + 20% = 101.88
        account = LoyaltyAccount.objects.get(customer=self.customer)
        self.assertEqual(account.points, 101)
        self.assertEqual(account.lifetime_points, 101)
        self.assertEqual(PointsTransaction.objects.get().order, order)

    def test_pending_order_earns_nothing_until_paid(self):
        order = make_paid_order(self.customer, [(self.product, 1)], status="pending")
        self.assertFalse(PointsTransaction.objects.exists())
        order.status = "paid"
        order.save()
        self.assertEqual(LoyaltyAccount.objects.get(customer=self.customer).points, int(order.total))

    def test_saving_a_paid_order_again_does_not_award_twice(self):
        order = make_paid_order(self.customer, [(self.product, 1)])
        order.save()
        order.save()
        self.assertEqual(PointsTransaction.objects.filter(order=order).count(), 1)


class LoyaltyServiceTests(TestCase):
    def test_discount_is_capped_at_half_the_subtotal(self):
        customer = make_customer()
        LoyaltyAccount.objects.create(customer=customer, points=10_000)
        points, amount = available_discount(customer, Decimal("30.00"))
        self.assertEqual((points, amount), (1500, Decimal("15.00")))

    def test_no_account_no_discount(self):
        self.assertEqual(available_discount(make_customer(), Decimal("30.00")), (0, Decimal("0.00")))

    def test_adjust_points(self):
        customer = make_customer()
        account = adjust_points(customer, 250, reason="goodwill")
        self.assertEqual(account.points, 250)
        self.assertEqual(account.transactions.get().kind, "adjust")


class BalanceViewTests(TestCase):
    def test_balance_page(self):
        customer = make_customer()
        make_paid_order(customer, [(make_product(price="40.00"), 1)])
        self.client.force_login(customer.user)
        response = self.client.get(reverse("loyalty:balance"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["account"].points, 53)  # (40 + 4.90) * 1.2 = 53.88
        self.assertEqual(response.context["worth"], Decimal("0.53"))
        self.assertContains(response, "bronze")

    def test_balance_requires_login(self):
        self.assertEqual(self.client.get(reverse("loyalty:balance")).status_code, 302)
