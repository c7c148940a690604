from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("", views.payment_list, name="payment_list"),
    path("<int:payment_id>/refund/", views.refund, name="refund"),
]
