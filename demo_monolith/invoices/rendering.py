"""
Invoice rendering: HTML for the browser, a minimal PDF for accounting.

Both read the order and return the document; nothing is stored.
"""
from django.conf import settings
from django.template.loader import render_to_string

from core.utils import format_money, tax_rate_for
from orders.models import Order


def invoice_number(order):
    return f"INV-{order.created_at:%Y}-{order.pk:06d}"


def invoice_context(order):
    currency = order.currency
    lines = [
        {
            "sku": line.sku,
            "name": line.name,
            "quantity": line.quantity,
            "unit_price": format_money(line.unit_price, currency),
            "line_total": format_money(line.line_total, currency),
        }
        for line in order.lines.all()
    ]
    payment = order.payments.filter(status="captured").first()
    return {
        "shop": {
            "name": settings.SHOP_NAME,
            "address": settings.SHOP_ADDRESS,
            "vat_number": settings.SHOP_VAT_NUMBER,
        },
        "order": order,
        "number": invoice_number(order),
        "customer_name": str(order.customer),
        "address": order.shipping_address,
        "lines": lines,
        "subtotal": format_money(order.subtotal, currency),
        "discount": format_money(order.discount, currency) if order.discount else "",
        "shipping": format_money(order.shipping_cost, currency),
        "tax_rate": f"{tax_rate_for(order.country) * 100:.0f}%",
        "tax": format_money(order.tax, currency),
        "total": format_money(order.total, currency),
        "payment_ref": payment.provider_ref if payment else "",
    }


def render_invoice(order_id):
    """The invoice of an order as a standalone HTML document."""
    order = Order.objects.select_related("customer__user").get(pk=order_id)
    return render_to_string("invoices/invoice.html", invoice_context(order))


def _pdf_escape(text):
    return str(text).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1", "replace").decode("latin-1")


def render_invoice_pdf(order_id):
    """
    A one-page PDF with the invoice text.

    Hand-written PDF because accounting only needs the text and the PDF library
    we used to depend on was abandoned; this is the smallest valid PDF 1.4.
    """
    order = Order.objects.select_related("customer__user").get(pk=order_id)
    ctx = invoice_context(order)
    text_lines = [
        f"{ctx['shop']['name']} - Invoice {ctx['number']}",
        f"Order {order.number} - {order.created_at:%Y-%m-%d}",
        f"Bill to: {ctx['customer_name']}",
        "",
    ]
    text_lines += [f"{line['quantity']} x {line['name']} ({line['sku']})  {line['line_total']}" for line in ctx["lines"]]
    text_lines += ["", f"Subtotal {ctx['subtotal']}", f"Shipping {ctx['shipping']}", f"VAT {ctx['tax_rate']} {ctx['tax']}", f"Total {ctx['total']}"]
    content = "BT /F1 11 Tf 50 800 Td 14 TL\n"
    content += "".join(f"({_pdf_escape(line)}) '\n" for line in text_lines)
    content += "ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("latin-1")
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode("latin-1")
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode("latin-1")
    return out
