from django.urls import path

from invoices import views

app_name = "invoices"

urlpatterns = [
    path("<int:order_id>/", views.invoice_html, name="invoice_html"),
    path("<int:order_id>/pdf/", views.invoice_pdf, name="invoice_pdf"),
]
