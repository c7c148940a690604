"""Shared fixtures: real services, or a clear skip locally / a failure under CI.

Under CI (``CI=true``, or ``STRANGLER_REQUIRE_SERVICES=1``) a test that needs Redis,
RabbitMQ or PostgreSQL fails when the service does not answer, so a broken CI machine can never
turn into a green run of skipped tests.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
RABBITMQ_HOST, RABBITMQ_PORT = "127.0.0.1", 5672
POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER = "127.0.0.1", 5432, "postgres"  # trust auth

# THE table of Redis database numbers: one owner each, so that no test file flushes
# another's data (Redis has 16 databases: 0-15; 0 is left to people's own use). A
# suite whose modules share one worker fixture owns one database: its modules run one
# after the other and the fixture flushes it at the start of each. Add a row here
# rather than hard-coding a number anywhere else.
REDIS_DBS: dict[str, int] = {
    "unit.stores.contract": 1,  # tests/unit/shims/stores/test_contract.py
    "unit.handler_stores": 2,  # tests/unit/shims/test_handler_stores.py
    "unit.outbox_confirm": 3,  # tests/unit/shims/test_outbox_confirm.py
    "integration": 4,  # tests/integration/conftest.py (redis_url / redis_worker)
    "integration.live_toggle": 5,  # tests/integration/test_live_toggle.py
    "e2e.extract_demo": 6,  # tests/e2e/test_extract_demo.py
    "reliability": 7,  # tests/reliability/conftest.py (RELIABILITY_DB)
    "benchmarks.bench_dispatch": 15,  # benchmarks/bench_dispatch.py (not a test: reserved)
}


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


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The real PostgreSQL server's maintenance database: create and drop databases here only."""
    require_service("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT)
    return f"postgresql://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/postgres"


@pytest.fixture(scope="module")
def postgres_database(postgres_url: str) -> Iterator[dict[str, Any]]:
    """A fresh database for this test module, as a Django ``DATABASES`` entry; dropped after.

    Named ``strangler_test_<random>``, so that parallel runs, other checkouts and the
    databases people keep on the server never meet (unlike Redis, PostgreSQL has
    databases enough for one per run). The module closes its own connections; the drop
    forces out any it leaked.
    """
    import psycopg
    from psycopg import sql

    name = f"strangler_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": POSTGRES_USER,
            "HOST": POSTGRES_HOST,
            "PORT": str(POSTGRES_PORT),
        }
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def redis_db_url(base: str, name: str) -> str:
    """``base/N`` for the database ``name`` owns in :data:`REDIS_DBS`, flushed first."""
    import redis

    url = f"{base}/{REDIS_DBS[name]}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def redis_db(redis_server: str) -> Callable[[str], str]:
    """``redis_db(name)``: the URL of the database ``name`` owns, flushed (see REDIS_DBS)."""
    return lambda name: redis_db_url(redis_server, name)
