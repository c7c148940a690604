"""Django integration for the shims: app config, routing-key middleware, admin, outbox.

Add ``"shims.django"`` to ``INSTALLED_APPS``. Django is imported only inside this
package, so the rest of ``shims`` works in a worker that has no Django.
"""
