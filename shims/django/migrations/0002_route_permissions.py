"""``strangler.change_route``: the permission to change live routing (no table)."""

from django.db import migrations


class Migration(migrations.Migration):  # type: ignore[misc]  # no django-stubs
    dependencies = [("strangler", "0001_outbox")]

    operations = [
        migrations.CreateModel(
            name="RoutePermissions",
            fields=[],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": (("change_route", "Can change feature routes (live traffic)"),),
            },
        ),
    ]
