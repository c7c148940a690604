"""
Django settings for the shop project.

Grown over the years: some values come from the environment (so ops can point
the shop at another database or media folder), most are hard-coded business
rules that are read with ``settings.X`` all over the code base.
"""
import os
import sys
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "django-insecure-demo-shop-not-for-production")
DEBUG = os.environ.get("SHOP_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "core",
    "accounts",
    "catalog",
    "orders",
    "payments",
    "loyalty",
    "notifications",
    "invoices",
    "reports",
    "shipping",
    "shop",  # the project package itself: seed_shop command, test factories
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RequestIdMiddleware",
]

ROOT_URLCONF = "shop.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.shop",
                "orders.context_processors.cart",
            ],
        },
    },
]

WSGI_APPLICATION = "shop.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOP_DB_PATH", str(BASE_DIR / "db.sqlite3")),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# The test suite used to take minutes because of PBKDF2; someone added this.
if "test" in sys.argv:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ.get("SHOP_MEDIA_ROOT", str(BASE_DIR / "media"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "catalog:product_list"
LOGOUT_REDIRECT_URL = "catalog:product_list"

EMAIL_BACKEND = os.environ.get("SHOP_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = "Demo Shop <orders@demo-shop.example>"
ADMINS = [("Shop Ops", "ops@demo-shop.example")]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"shop": {"handlers": ["null"], "level": "INFO"}},
}

# ----------------------------------------------------------------- business rules
SHOP_NAME = "Demo Shop"
SHOP_CURRENCY = "EUR"
SHOP_COUNTRY = "FR"
SHOP_ADDRESS = "1 Rue du Commerce, 75001 Paris, France"
SHOP_VAT_NUMBER = "FR00123456789"
SHOP_SUPPORT_EMAIL = "support@demo-shop.example"

# VAT by destination country; anything else uses DEFAULT_TAX_RATE.
TAX_RATES = {
    "FR": Decimal("0.20"),
    "DE": Decimal("0.19"),
    "IT": Decimal("0.22"),
    "ES": Decimal("0.21"),
    "NL": Decimal("0.21"),
    "BE": Decimal("0.21"),
    "GB": Decimal("0.20"),
    "US": Decimal("0.00"),
}
DEFAULT_TAX_RATE = Decimal("0.20")

# Shipping zones: base price + price per started kilogram.
SHIPPING_ZONES = {
    "domestic": {"countries": ["FR"], "base": Decimal("4.90"), "per_kg": Decimal("0.50")},
    "eu": {
        "countries": ["DE", "IT", "ES", "NL", "BE", "AT", "PT", "IE", "LU"],
        "base": Decimal("9.90"),
        "per_kg": Decimal("1.50"),
    },
    "world": {"countries": [], "base": Decimal("19.90"), "per_kg": Decimal("4.00")},
}
FREE_SHIPPING_OVER = Decimal("100.00")
MAX_PARCEL_WEIGHT_GRAMS = 30000

PRICE_CACHE_SECONDS = 300
LOW_STOCK_THRESHOLD = 5
MAX_CART_QUANTITY = 10

LOYALTY_POINTS_PER_UNIT = 1  # points per whole currency unit spent
LOYALTY_POINT_VALUE = Decimal("0.01")  # value of one point when redeemed
LOYALTY_MAX_REDEEM_RATIO = Decimal("0.50")  # at most half the subtotal

THUMBNAIL_SIZE = (128, 128)
THUMBNAIL_DIR = "thumbnails"

PAYMENT_GATEWAY = "fake"
PAYMENT_DECLINE_TOKENS = ["tok_declined", "tok_insufficient_funds"]

ORDER_EMAIL_BCC = ["archive@demo-shop.example"]
REPORT_MAX_DAYS = 366
