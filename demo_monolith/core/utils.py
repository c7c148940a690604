"""
Helpers used everywhere.

Nobody remembers who started this file. Money formatting, request helpers,
date parsing, slug helpers and a couple of ops alerts all ended up here
because "it's used by more than one app".
"""
import csv
import io
import json
import logging
import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.mail import mail_admins
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.utils import timezone

logger = logging.getLogger("shop")

TWO_PLACES = Decimal("0.01")

CURRENCY_SYMBOLS = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
}


# ---------------------------------------------------------------- money
def to_decimal(value, default=Decimal("0")):
    """Turn whatever the caller has (str, int, float, Decimal, None) into a Decimal."""
    if value is None or value == "":
        return default
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return default
    return result if result.is_finite() else default


def quantize(amount):
    return to_decimal(amount).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def format_money(amount, currency=None):
    currency = currency or settings.SHOP_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    amount = quantize(amount)
    sign = "-" if amount < 0 else ""
    whole, frac = f"{abs(amount):.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = ",".join(groups) + "." + frac
    if currency == "EUR":
        return f"{sign}{text} {symbol}"
    return f"{sign}{symbol}{text}"


def cents(amount):
    return int((quantize(amount) * 100).to_integral_value())


def from_cents(value):
    return quantize(Decimal(int(value)) / 100)


def percent_of(amount, rate):
    return quantize(to_decimal(amount) * to_decimal(rate))


def tax_rate_for(country):
    country = (country or settings.SHOP_COUNTRY).upper()
    return settings.TAX_RATES.get(country, settings.DEFAULT_TAX_RATE)


# ---------------------------------------------------------------- dates
def parse_date_or_none(value):
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d"):
        try:
            return datetime.strptime(str(value).strip(), fmt).date()
        except ValueError:
            continue
    return None


def date_range_or_default(start, end, days=30):
    end = parse_date_or_none(end) or timezone.localdate()
    start = parse_date_or_none(start) or (end - timedelta(days=days))
    if start > end:
        start, end = end, start
    if (end - start).days > settings.REPORT_MAX_DAYS:
        start = end - timedelta(days=settings.REPORT_MAX_DAYS)
    return start, end


def daterange(start, end):
    current = start
    while current <= end:
        yield current
        current += timedelta(days=1)


# ---------------------------------------------------------------- text
def slugify_ascii(value):
    value = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value.lower())
    return re.sub(r"[-\s]+", "-", value).strip("-_")


def truncate(text, length=80, suffix="..."):
    text = text or ""
    if len(text) <= length:
        return text
    return text[: length - len(suffix)].rstrip() + suffix


def mask_card(token):
    token = token or ""
    return "**** " + token[-4:] if len(token) >= 4 else "****"


# ---------------------------------------------------------------- request helpers
def get_client_ip(request):
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def is_staff(request):
    return bool(getattr(request, "user", None) and request.user.is_authenticated and request.user.is_staff)


def wants_json(request):
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" in accept or request.GET.get("format") == "json"


def paginate(request, queryset, per_page=20):
    paginator = Paginator(queryset, per_page)
    page = request.GET.get("page", 1)
    try:
        return paginator.page(page)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


def get_int_param(request, name, default=None, minimum=None, maximum=None):
    raw = request.GET.get(name, request.POST.get(name))
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    if minimum is not None and value < minimum:
        value = minimum
    if maximum is not None and value > maximum:
        value = maximum
    return value


# ---------------------------------------------------------------- misc
def chunked(items, size):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def weight_to_kg(weight_grams):
    return max(1, math.ceil(int(weight_grams) / 1000))


def json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data):
    return json.dumps(data, default=json_default, sort_keys=True)


def rows_to_csv(header, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def send_admin_alert(subject, message):
    """Ops wanted an e-mail when something odd happens. Never let it break a request."""
    try:
        mail_admins(subject, message, fail_silently=True)
    except Exception:  # noqa: BLE001 - legacy: alerts must never break the caller
        logger.exception("could not alert admins")
