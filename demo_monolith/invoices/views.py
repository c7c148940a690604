from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from invoices.rendering import invoice_number, render_invoice, render_invoice_pdf
from orders.models import Order


def _get_order_for(request, order_id):
    order = get_object_or_404(Order.objects.select_related("customer"), pk=order_id)
    if not order.belongs_to(request.user):
        raise Http404("No such order")
    if not order.is_paid and order.status != Order.Status.REFUNDED:
        raise Http404("Order not invoiced yet")
    return order


@login_required
def invoice_html(request, order_id):
    order = _get_order_for(request, order_id)
    html = render_invoice(order.id)
    return HttpResponse(html, content_type="text/html; charset=utf-8")


@login_required
def invoice_pdf(request, order_id):
    order = _get_order_for(request, order_id)
    response = HttpResponse(render_invoice_pdf(order.id), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_number(order)}.pdf"'
    return response
