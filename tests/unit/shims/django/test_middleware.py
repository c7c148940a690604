"""RoutingKeyMiddleware puts the routing key in the contextvar and takes it out again."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from shims.context import current_key
from shims.django.middleware import RoutingKeyMiddleware


def key_seen_by_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(current_key()))


def call(middleware: RoutingKeyMiddleware, request: HttpRequest) -> str:
    return middleware(request).content.decode()


@pytest.fixture
def rf() -> RequestFactory:
    return RequestFactory()


@pytest.mark.django_db
def test_authenticated_user_pk_is_the_key_during_the_request(
    rf: RequestFactory, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ana", password="x")
    request = rf.get("/")
    request.user = user
    assert call(RoutingKeyMiddleware(key_seen_by_view), request) == str(user.pk)
    assert current_key() is None  # reset after the response


def test_anonymous_request_has_no_key(rf: RequestFactory) -> None:
    request = rf.get("/")
    request.user = AnonymousUser()
    assert call(RoutingKeyMiddleware(key_seen_by_view), request) == "None"


def test_key_is_reset_when_the_view_raises(rf: RequestFactory, settings: Any) -> None:
    settings.STRANGLER = {"ROUTING_KEY": "tests.unit.shims.django.keys.tenant_header"}

    def failing_view(request: HttpRequest) -> HttpResponse:
        assert current_key() == "acme"
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        RoutingKeyMiddleware(failing_view)(rf.get("/", headers={"X-Tenant": "acme"}))
    assert current_key() is None


def test_configured_key_function(rf: RequestFactory, settings: Any) -> None:
    settings.STRANGLER = {"ROUTING_KEY": "tests.unit.shims.django.keys.tenant_header"}
    middleware = RoutingKeyMiddleware(key_seen_by_view)
    assert call(middleware, rf.get("/", headers={"X-Tenant": "acme"})) == "acme"
    assert call(middleware, rf.get("/")) == "None"


@pytest.mark.parametrize(
    ("dotted", "message"),
    [
        ("tests.unit.shims.django.keys.missing", "ROUTING_KEY"),
        ("tests.unit.shims.django.keys.not_callable", "not callable"),
    ],
)
def test_bad_key_function_is_a_configuration_error(
    settings: Any, dotted: str, message: str
) -> None:
    settings.STRANGLER = {"ROUTING_KEY": dotted}
    with pytest.raises(ImproperlyConfigured, match=message):
        RoutingKeyMiddleware(key_seen_by_view)


@pytest.mark.django_db
def test_through_the_real_middleware_stack(
    client: Any, settings: Any, django_user_model: Any
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "shims.django.middleware.RoutingKeyMiddleware"]
    settings.ROOT_URLCONF = "tests.unit.shims.django.urls"
    user = django_user_model.objects.create_user("bo", password="x")
    assert client.get("/key/").content.decode() == "None"
    client.force_login(user)
    assert client.get("/key/").content.decode() == str(user.pk)
