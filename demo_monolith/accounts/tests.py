from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from accounts.models import Customer
from shop.tests.factories import make_customer


class RegisterTests(TestCase):
    def test_register_creates_customer_logs_in_and_welcomes(self):
        response = self.client.post(
            reverse("accounts:register"),
            {"username": "ivy", "email": "ivy@example.com", "password": "long-enough-pw", "country": "nl"},
        )
        self.assertRedirects(response, reverse("catalog:product_list"))
        customer = Customer.objects.get(user__username="ivy")
        self.assertEqual(customer.country, "NL")
        self.assertEqual(int(self.client.session["_auth_user_id"]), customer.user_id)
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("Welcome", mail.outbox[0].subject)

    def test_duplicate_username_is_rejected(self):
        make_customer("jack")
        response = self.client.post(
            reverse("accounts:register"), {"username": "JACK", "email": "j@example.com", "password": "long-enough-pw", "country": "FR"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("username", response.context["form"].errors)
        self.assertEqual(get_user_model().objects.count(), 1)


class LoginAndProfileTests(TestCase):
    def test_login_page_and_login(self):
        make_customer("kim")
        self.assertEqual(self.client.get(reverse("accounts:login")).status_code, 200)
        response = self.client.post(reverse("accounts:login"), {"username": "kim", "password": "pw-for-tests"})
        self.assertRedirects(response, reverse("catalog:product_list"))

    def test_profile_update(self):
        customer = make_customer("lea")
        self.client.force_login(customer.user)
        self.assertContains(self.client.get(reverse("accounts:profile")), "Recent orders")
        response = self.client.post(
            reverse("accounts:profile"), {"city": "Gent", "postcode": "9000", "country": "BE", "address_line1": "Kouter 1"}
        )
        self.assertRedirects(response, reverse("accounts:profile"))
        customer.refresh_from_db()
        self.assertEqual((customer.city, customer.country), ("Gent", "BE"))

    def test_logout(self):
        self.client.force_login(make_customer().user)
        response = self.client.post(reverse("accounts:logout"))
        self.assertEqual(response.status_code, 302)
        self.assertNotIn("_auth_user_id", self.client.session)
