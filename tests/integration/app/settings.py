"""Django settings of the integration worker process (not of the test process).

Mail goes to files under ``$IT_OUT_DIR/mail`` so a test can see from outside whether the
worker really sent anything; the database is a throwaway SQLite file.
"""

import os

_OUT = os.environ.get("IT_OUT_DIR", "/tmp/strangler-it")

SECRET_KEY = "integration-worker-not-secret"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shims.django"]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(_OUT, "worker.db")}
}
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.path.join(_OUT, "mail")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
