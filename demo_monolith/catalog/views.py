from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from catalog.forms import ProductImageForm, SearchForm
from catalog.images import make_thumbnail
from catalog.models import Category, Product
from catalog.pricing import get_price
from core.utils import format_money, paginate, wants_json


def product_list(request, category_slug=None):
    products = Product.objects.filter(is_active=True).select_related("category", "stock")
    category = None
    if category_slug:
        category = get_object_or_404(Category, slug=category_slug)
        products = products.filter(category=category)
    form = SearchForm(request.GET or None)
    if form.is_valid():
        q = form.cleaned_data.get("q")
        if q:
            products = products.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(sku__iexact=q))
        if form.cleaned_data.get("min_price") is not None:
            products = products.filter(price__gte=form.cleaned_data["min_price"])
        if form.cleaned_data.get("max_price") is not None:
            products = products.filter(price__lte=form.cleaned_data["max_price"])
        if form.cleaned_data.get("in_stock"):
            products = products.filter(stock__quantity__gt=0)
    page = paginate(request, products, per_page=12)
    rows = []
    for product in page.object_list:
        price = get_price(product.id)
        rows.append(
            {
                "product": product,
                "price": price,
                "on_sale": product.sale_price is not None,
                "low_stock": hasattr(product, "stock") and product.stock.is_low,
            }
        )
    if wants_json(request):
        return JsonResponse(
            {
                "products": [
                    {"sku": r["product"].sku, "name": r["product"].name, "price": str(r["price"]), "currency": settings.SHOP_CURRENCY}
                    for r in rows
                ],
                "page": page.number,
                "pages": page.paginator.num_pages,
            }
        )
    return render(
        request,
        "catalog/product_list.html",
        {"rows": rows, "page": page, "form": form, "category": category, "categories": Category.objects.all()},
    )


def product_detail(request, slug):
    product = get_object_or_404(Product.objects.select_related("category", "stock"), slug=slug, is_active=True)
    price = get_price(product.id)
    related = Product.objects.filter(category=product.category, is_active=True).exclude(pk=product.pk)[:4]
    stock = getattr(product, "stock", None)
    context = {
        "product": product,
        "price": price,
        "price_display": format_money(price),
        "related": related,
        "available": stock.quantity if stock else 0,
        "max_quantity": min(settings.MAX_CART_QUANTITY, stock.quantity if stock else 0),
    }
    return render(request, "catalog/product_detail.html", context)


@staff_member_required
def upload_image(request, slug):
    product = get_object_or_404(Product, slug=slug)
    if request.method == "POST":
        form = ProductImageForm(request.POST, request.FILES, instance=product)
        if form.is_valid():
            form.save()
            make_thumbnail(product.id)
            messages.success(request, "Image uploaded.")
            return redirect(product.get_absolute_url())
    else:
        form = ProductImageForm(instance=product)
    return render(request, "catalog/upload_image.html", {"form": form, "product": product})
