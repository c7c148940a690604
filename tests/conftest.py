"""Shared fixtures: real services, or a clear skip locally / a failure under CI.

Under CI (``CI=true``, or ``STRANGLER_REQUIRE_SERVICES=1``) a test that needs Redis or
RabbitMQ fails when the service does not answer, so a broken CI machine can never
turn into a green run of skipped tests.
"""

from __future__ import annotations

import os
import socket

import pytest

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
RABBITMQ_HOST, RABBITMQ_PORT = "127.0.0.1", 5672


def services_required() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"} or bool(
        os.environ.get("STRANGLER_REQUIRE_SERVICES")
    )


def require_service(name: str, host: str, port: int) -> None:
    """Fail (under CI) or skip (locally) when ``host:port`` does not accept connections."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        message = f"{name} is not answering on {host}:{port} ({exc})"
        if services_required():
            pytest.fail(f"{message}; CI requires it", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def redis_server() -> str:
    """Base URL of the real Redis server (a test should pick its own db number)."""
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}"


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    require_service("RabbitMQ", RABBITMQ_HOST, RABBITMQ_PORT)
    return f"amqp://guest:guest@{RABBITMQ_HOST}:{RABBITMQ_PORT}//"
