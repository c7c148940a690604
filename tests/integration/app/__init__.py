"""A tiny extracted-handler app for the integration tests, run by a real Celery worker."""
