import shutil
import tempfile

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse
from PIL import Image

from catalog import pricing
from catalog.images import make_thumbnail
from catalog.models import Product
from shop.tests.factories import make_category, make_customer, make_product, make_staff, tiny_png


class ProductListTests(TestCase):
    fixtures = ["demo_catalog"]

    def test_lists_active_products_from_fixture(self):
        response = self.client.get(reverse("catalog:product_list"))
        self.assertEqual(response.status_code, 200)
        names = [row["product"].name for row in response.context["rows"]]
        self.assertIn("House Espresso 250g", names)
        self.assertNotIn("Discontinued Decaf", names)

    def test_sale_price_wins(self):
        response = self.client.get(reverse("catalog:product_list"), {"q": "DEMO-002"})
        (row,) = response.context["rows"]
        self.assertTrue(row["on_sale"])
        self.assertEqual(str(row["price"]), "7.50")

    def test_search_and_price_filters(self):
        response = self.client.get(reverse("catalog:product_list"), {"q": "espresso", "max_price": "20"})
        self.assertEqual([r["product"].sku for r in response.context["rows"]], ["DEMO-001"])
        response = self.client.get(reverse("catalog:product_list"), {"in_stock": "on"})
        self.assertNotIn("DEMO-003", [r["product"].sku for r in response.context["rows"]])

    def test_category_page(self):
        response = self.client.get(reverse("catalog:category", args=["tea"]))
        self.assertEqual(response.context["category"].name, "Tea")
        self.assertEqual([r["product"].sku for r in response.context["rows"]], ["DEMO-002"])
        self.assertEqual(self.client.get(reverse("catalog:category", args=["nope"])).status_code, 404)

    def test_json_listing(self):
        response = self.client.get(reverse("catalog:product_list"), {"format": "json"})
        data = response.json()
        self.assertEqual(data["page"], 1)
        self.assertIn({"sku": "DEMO-001", "name": "House Espresso 250g", "price": "11.90", "currency": "EUR"}, data["products"])


class ProductDetailTests(TestCase):
    def test_detail_page(self):
        product = make_product("Dripper", price="24.00", stock=3)
        response = self.client.get(product.get_absolute_url())
        self.assertContains(response, "Dripper")
        self.assertContains(response, "24.00")
        self.assertEqual(response.context["max_quantity"], 3)

    def test_inactive_product_is_404(self):
        product = make_product("Old", is_active=False)
        self.assertEqual(self.client.get(product.get_absolute_url()).status_code, 404)


class PriceCacheTests(TestCase):
    def test_price_is_cached_and_invalidated_on_save(self):
        product = make_product("Cup", price="9.00")
        self.assertEqual(str(pricing.get_price(product.pk)), "9.00")
        # a write that bypasses save() leaves the cache stale ...
        Product.objects.filter(pk=product.pk).update(price="11.00")
        self.assertEqual(str(pricing.get_price(product.pk)), "9.00")
        # ... save() fires post_save, which clears the entry
        product.refresh_from_db()
        product.save()
        self.assertEqual(str(pricing.get_price(product.pk)), "11.00")

    def test_invalidate_all(self):
        product = make_product("Cup", price="9.00")
        pricing.get_price(product.pk)
        self.assertGreaterEqual(pricing.cache_size(), 1)
        pricing.invalidate_price()
        self.assertEqual(pricing.cache_size(), 0)


class ThumbnailTests(TestCase):
    def setUp(self):
        self.media = tempfile.mkdtemp(prefix="shop-media-")
        self.addCleanup(shutil.rmtree, self.media, ignore_errors=True)
        override = override_settings(MEDIA_ROOT=self.media)
        override.enable()
        self.addCleanup(override.disable)
        self.product = make_product("Tumbler", category=make_category("Cups"))

    def test_make_thumbnail_from_real_png(self):
        self.product.image = SimpleUploadedFile("tumbler.png", tiny_png((300, 120)), content_type="image/png")
        self.product.save()
        name = make_thumbnail(self.product.pk)
        self.assertEqual(name, self.product.thumbnail_name)
        with default_storage.open(name, "rb") as fh, Image.open(fh) as thumb:
            self.assertEqual(thumb.size, (128, 128))
            self.assertEqual(thumb.format, "PNG")
            self.assertEqual(thumb.convert("RGB").getpixel((64, 64)), (200, 30, 30))

    def test_make_thumbnail_without_image_does_nothing(self):
        self.assertIsNone(make_thumbnail(self.product.pk))
        self.assertFalse(default_storage.exists(self.product.thumbnail_name))

    def test_staff_upload_view_creates_thumbnail(self):
        self.client.force_login(make_staff())
        upload = SimpleUploadedFile("photo.png", tiny_png((64, 64), (0, 0, 255)), content_type="image/png")
        response = self.client.post(reverse("catalog:upload_image", args=[self.product.slug]), {"image": upload})
        self.assertRedirects(response, self.product.get_absolute_url())
        self.assertTrue(default_storage.exists(self.product.thumbnail_name))
        response = self.client.get(self.product.get_absolute_url())
        self.assertContains(response, self.product.thumbnail_url)

    def test_upload_rejects_non_images(self):
        self.client.force_login(make_staff())
        upload = SimpleUploadedFile("notes.png", b"not an image", content_type="image/png")
        response = self.client.post(reverse("catalog:upload_image", args=[self.product.slug]), {"image": upload})
        self.assertEqual(response.status_code, 200)
        self.assertIn("image", response.context["form"].errors)
        self.assertFalse(default_storage.exists(self.product.thumbnail_name))

    def test_customers_cannot_upload(self):
        self.client.force_login(make_customer().user)
        response = self.client.get(reverse("catalog:upload_image", args=[self.product.slug]))
        self.assertEqual(response.status_code, 302)
