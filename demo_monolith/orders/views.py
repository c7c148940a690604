from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.helpers import get_customer
from catalog.models import Product
from core.utils import format_money, get_client_ip, logger, paginate, wants_json
from loyalty.services import available_discount
from notifications.emails import send_order_confirmation, send_shipping_notification
from orders.cart import get_cart
from orders.checkout import CheckoutError, mark_shipped, place_order
from orders.forms import AddToCartForm, CheckoutForm, ShipForm
from orders.models import Order
from payments.capture import PaymentDeclined
from shipping.quotes import QuoteError, quote


def cart_detail(request):
    cart = get_cart(request)
    lines = cart.lines()
    subtotal = cart.subtotal()
    country = request.GET.get("country") or (
        get_customer(request).country if request.user.is_authenticated else settings.SHOP_COUNTRY
    )
    estimate = None
    if lines:
        try:
            estimate = quote(country, cart.weight_grams(), subtotal)
        except QuoteError:
            estimate = None
    missing_for_free = max(settings.FREE_SHIPPING_OVER - subtotal, 0)
    if wants_json(request):
        return JsonResponse(
            {
                "lines": [
                    {"sku": line["product"].sku, "quantity": line["quantity"], "line_total": str(line["line_total"])}
                    for line in lines
                ],
                "subtotal": str(subtotal),
                "estimate": estimate,
            }
        )
    return render(
        request,
        "orders/cart.html",
        {
            "lines": lines,
            "subtotal": subtotal,
            "estimate": estimate,
            "country": country,
            "missing_for_free": missing_for_free,
        },
    )


@require_POST
def cart_add(request):
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        if wants_json(request):
            return JsonResponse({"errors": form.errors}, status=400)
        messages.error(request, "Could not add that to your cart.")
        return redirect("orders:cart")
    product = get_object_or_404(Product.objects.select_related("stock"), pk=form.cleaned_data["product_id"], is_active=True)
    stock = getattr(product, "stock", None)
    if stock is None or stock.quantity <= 0:
        if wants_json(request):
            return JsonResponse({"error": "out of stock"}, status=409)
        messages.error(request, f"{product.name} is out of stock.")
        return redirect(product.get_absolute_url())
    cart = get_cart(request)
    quantity = cart.add(product.pk, form.cleaned_data["quantity"], replace=form.cleaned_data["replace"])
    if quantity > stock.quantity:
        quantity = cart.add(product.pk, stock.quantity, replace=True)
        messages.warning(request, f"Only {stock.quantity} of {product.name} left.")
    if wants_json(request):
        return JsonResponse({"sku": product.sku, "quantity": quantity, "cart_count": len(cart)})
    messages.success(request, f"{product.name} added to your cart.")
    return redirect("orders:cart")


@require_POST
def cart_remove(request, product_id):
    get_cart(request).remove(product_id)
    return redirect("orders:cart")


@login_required
def checkout(request):
    cart = get_cart(request)
    customer = get_customer(request)
    if not cart:
        messages.info(request, "Your cart is empty.")
        return redirect("orders:cart")
    subtotal = cart.subtotal()
    points, discount = available_discount(customer, subtotal)
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            try:
                order = place_order(
                    customer, cart, form.cleaned_data["card_token"], use_points=form.cleaned_data["use_points"]
                )
            except CheckoutError as exc:
                messages.error(request, str(exc))
                return redirect("orders:cart")
            except PaymentDeclined as exc:
                logger.warning("declined checkout from %s", get_client_ip(request))
                form.add_error("card_token", str(exc))
                return render(
                    request,
                    "orders/checkout.html",
                    {"form": form, "lines": cart.lines(), "subtotal": subtotal, "points": points, "discount": discount},
                    status=402,
                )
            cart.clear()
            send_order_confirmation(order)
            messages.success(request, f"Thank you! Order {order.number} is confirmed.")
            return redirect(order.get_absolute_url())
    else:
        form = CheckoutForm()
    estimate = quote(customer.country, cart.weight_grams(), subtotal)
    return render(
        request,
        "orders/checkout.html",
        {
            "form": form,
            "lines": cart.lines(),
            "subtotal": subtotal,
            "estimate": estimate,
            "points": points,
            "discount": discount,
            "discount_display": format_money(discount),
        },
    )


@login_required
def order_list(request):
    customer = get_customer(request)
    orders = Order.objects.filter(customer=customer).prefetch_related("lines")
    status = request.GET.get("status")
    if status in Order.Status.values:
        orders = orders.filter(status=status)
    page = paginate(request, orders, per_page=10)
    return render(request, "orders/order_list.html", {"page": page, "status": status, "statuses": Order.Status.choices})


@login_required
def order_detail(request, order_id):
    order = get_object_or_404(
        Order.objects.select_related("customer__user").prefetch_related("lines", "payments", "shipments"), pk=order_id
    )
    if not order.belongs_to(request.user):
        raise Http404("No such order")
    if wants_json(request):
        return JsonResponse(
            {
                "number": order.number,
                "status": order.status,
                "total": str(order.total),
                "currency": order.currency,
                "lines": [{"sku": line.sku, "quantity": line.quantity} for line in order.lines.all()],
            }
        )
    context = {"order": order, "ship_form": ShipForm() if request.user.is_staff and order.can_be_shipped() else None}
    return render(request, "orders/order_detail.html", context)


@staff_member_required
@require_POST
def ship_order(request, order_id):
    order = get_object_or_404(Order, pk=order_id)
    if not order.can_be_shipped():
        messages.error(request, f"Order {order.number} cannot be shipped ({order.get_status_display()}).")
        return redirect(order.get_absolute_url())
    form = ShipForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Carrier and tracking number are required.")
        return redirect(order.get_absolute_url())
    mark_shipped(order, form.cleaned_data["carrier"], form.cleaned_data["tracking_number"])
    send_shipping_notification(order)
    messages.success(request, f"Order {order.number} marked as shipped.")
    return redirect(order.get_absolute_url())
