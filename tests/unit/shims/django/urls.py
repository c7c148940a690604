"""A URLconf with one view that echoes the routing key it sees."""

from django.urls import path

from tests.unit.shims.django.test_middleware import key_seen_by_view

urlpatterns = [path("key/", key_seen_by_view)]
