from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts.forms import ProfileForm, RegisterForm
from accounts.helpers import get_customer
from accounts.models import Customer
from core.utils import get_client_ip, logger
from notifications.emails import send_welcome_email


def register(request):
    if request.user.is_authenticated:
        return redirect("catalog:product_list")
    if request.method == "POST":
        form = RegisterForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            user = get_user_model().objects.create_user(
                username=data["username"], email=data["email"], password=data["password"]
            )
            Customer.objects.create(user=user, country=data["country"])
            login(request, user)
            logger.info("new customer %s from %s", user.username, get_client_ip(request))
            send_welcome_email(request, user)
            messages.success(request, "Welcome aboard!")
            return redirect("catalog:product_list")
    else:
        form = RegisterForm()
    return render(request, "accounts/register.html", {"form": form})


@login_required
def profile(request):
    customer = get_customer(request)
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=customer)
        if form.is_valid():
            form.save()
            messages.success(request, "Profile saved.")
            return redirect("accounts:profile")
    else:
        form = ProfileForm(instance=customer)
    recent_orders = customer.orders.order_by("-created_at")[:5]
    return render(request, "accounts/profile.html", {"form": form, "customer": customer, "recent_orders": recent_orders})
