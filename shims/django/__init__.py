"""Django integration for the shims: app config, routing-key middleware, admin, outbox.

Add ``"shims.django"`` to ``INSTALLED_APPS``. Django is imported only inside this
package, so the rest of ``shims`` works in a worker that has no Django.
"""

# Nothing is re-exported: importing models or views here would run before Django's app
# registry is ready. Use ``shims.django.middleware``, ``.urls``, ``.models`` directly.
__all__: list[str] = []
