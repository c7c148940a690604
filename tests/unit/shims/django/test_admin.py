"""The staff routes page: staff see it; changing a route needs ``strangler.change_route``.

Changes are recorded with the Django user as the actor."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from shims.routing import Mode, Route
from shims.runtime import Runtime, configure, reset_runtime

URL = "/strangler/routes/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    yield configure(route_store_url="memory://", route_ttl=60)
    reset_runtime()


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("ops", password="x", is_staff=True)


@pytest.fixture
def operator(django_user_model: Any) -> Any:
    """Staff allowed to change live routing."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_route"))
    return user


@pytest.fixture
def member(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("customer", password="x")


def test_anonymous_is_sent_to_the_login(client: Client, runtime: Runtime) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_non_staff_cannot_see_or_set(client: Client, runtime: Runtime, member: Any) -> None:
    client.force_login(member)
    assert client.get(URL).status_code == 302
    response = client.post(URL, {"feature": "f", "mode": "function", "reason": "x"})
    assert response.status_code == 302
    assert runtime.store.get("f") is None
    assert runtime.store.history("f") == []


def test_staff_sees_the_routes(client: Client, runtime: Runtime, staff: Any) -> None:
    runtime.store.set(Route("orders.confirm", Mode.CANARY, 15), actor="cli-user", reason="ramp")
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "orders.confirm" in html
    assert "canary 15%" in html
    assert "cli-user" in html
    assert "memory://" in html


def test_an_operator_sets_a_route_with_a_reason(
    client: Client, runtime: Runtime, operator: Any
) -> None:
    client.force_login(operator)
    response = client.post(
        URL, {"feature": "orders.confirm", "mode": "canary", "percent": "20", "reason": "looks ok"}
    )
    assert response.status_code == 303
    assert runtime.store.get("orders.confirm") == Route("orders.confirm", Mode.CANARY, 20)
    change = runtime.store.history("orders.confirm")[0]
    assert (change.actor, change.reason) == ("ops", "looks ok")
    assert runtime.table.get("orders.confirm") == Route("orders.confirm", Mode.CANARY, 20)
    assert "now canary 20%" in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"feature": "f", "mode": "sideways"}, "unknown mode"),
        ({"feature": "f", "mode": "canary"}, "canary needs"),
        ({"feature": "f", "mode": "canary", "percent": "150"}, "between 0 and 100"),
        ({"feature": "f", "mode": "canary", "percent": "lots"}, "whole number"),
        ({"feature": "f", "mode": "shadow", "percent": "5"}, "only applies to canary"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(
    client: Client, runtime: Runtime, operator: Any, form: dict[str, str], message: str
) -> None:
    client.force_login(operator)
    response = client.post(URL, form)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode()).lower()
    assert runtime.store.get("f") is None


def test_csrf_is_enforced(runtime: Runtime, operator: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = client.post(URL, {"feature": "f", "mode": "function"})
    assert response.status_code == 403
    assert runtime.store.get("f") is None


def test_staff_without_the_permission_can_look_but_not_change(
    client: Client, runtime: Runtime, staff: Any
) -> None:
    client.force_login(staff)
    response = client.post(URL, {"feature": "orders.confirm", "mode": "function"})
    assert response.status_code == 403
    assert runtime.store.get("orders.confirm") is None
    page = client.get(URL)
    assert page.status_code == 200
    assert 'name="mode"' not in page.content.decode()  # no form offered


def test_a_superuser_may_change_routes(
    client: Client, runtime: Runtime, django_user_model: Any
) -> None:
    root = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(root)
    response = client.post(URL, {"feature": "orders.confirm", "mode": "shadow"})
    assert response.status_code == 303
    assert runtime.store.get("orders.confirm") == Route("orders.confirm", Mode.SHADOW)


def test_staff_see_the_last_few_mismatches_per_feature_escaped(
    client: Client, runtime: Runtime, staff: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    from shims.django.admin import MISMATCHES_SHOWN
    from shims.stores import MismatchSample

    runtime.store.set(Route("orders.confirm", Mode.SHADOW), actor="cli-user")
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    runtime.store.add_mismatches(
        MismatchSample(
            "orders.confirm",
            f"ev-{n}",
            t0 + timedelta(minutes=n),
            "result",
            f'{{"note": "<script>alert({n})</script>"}}',
            f'{{"sum": {n}}}',
            "web-1:42",
        )
        for n in range(MISMATCHES_SHOWN + 2)
    )
    client.force_login(staff)
    page = client.get(URL).content.decode()
    assert "Recent shadow mismatches" in page
    shown = [n for n in range(MISMATCHES_SHOWN + 2) if f"ev-{n}<" in page]
    assert shown == list(range(2, MISMATCHES_SHOWN + 2))  # the newest few
    assert page.index("ev-4<") < page.index("ev-3<")
    assert "2026-12-01 09:04:00" in page  # UTC, as labelled
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in page  # escaped, shown as written
    assert "web-1:42" in page


def test_no_mismatch_section_without_mismatches(
    client: Client, runtime: Runtime, staff: Any
) -> None:
    runtime.store.set(Route("orders.confirm", Mode.SHADOW), actor="cli-user")
    client.force_login(staff)
    assert "Recent shadow mismatches" not in client.get(URL).content.decode()
