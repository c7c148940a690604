from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.utils import paginate
from payments.capture import PaymentDeclined, refund_payment
from payments.models import Payment


@staff_member_required
def payment_list(request):
    payments = Payment.objects.select_related("order", "order__customer__user")
    status = request.GET.get("status")
    if status in Payment.Status.values:
        payments = payments.filter(status=status)
    page = paginate(request, payments, per_page=25)
    return render(request, "payments/payment_list.html", {"page": page, "status": status})


@staff_member_required
@require_POST
def refund(request, payment_id):
    payment = get_object_or_404(Payment, pk=payment_id)
    try:
        refund_payment(payment, reason=request.POST.get("reason", ""))
    except (ValueError, PaymentDeclined) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Payment {payment.provider_ref} refunded.")
    return redirect("orders:order_detail", payment.order_id)
