from django.urls import path

from shipping import views

app_name = "shipping"

urlpatterns = [
    path("quote/", views.quote_view, name="quote"),
]
