"""A broker or result backend URL whose password kombu would split never leaks a piece of it.

kombu reads ``amqp://u:SE/CRET@h//`` as host ``u`` and port ``SE`` and fails on first use
with ``Port could not be cast to integer value as 'SE'``: printed by a worker started
with it, logged by a routed call. ``build_app`` refuses such a URL up front, masked, and
a routed call whose publish fails that way still falls back to the monolith body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shims.celery import build_app, celery_config
from shims.config import Settings
from shims.dispatch import breakers, publisher, routed
from shims.routing import Mode, Route
from shims.runtime import get_runtime, reset_runtime

SPLIT = [
    {"broker_url": "amqp://u:SE/CRET@h//"},
    {"broker_url": "redis://:SE?CRET@h/0"},
    {"broker_url": "redis://:ok@h1/0;amqp://u:SE/CRET@h2//"},
    {"result_backend": "redis://:SE/CRET@h:6379/0"},
    {"result_backend": "db+postgresql://u:SE#CRET@h/db"},
]


@pytest.mark.parametrize("urls", SPLIT)
def test_build_app_refuses_a_split_prone_password_masked(tmp_path: Path, urls: Any) -> None:
    fields = {"result_backend": f"file://{tmp_path}/results", **urls}
    settings = Settings(route_store_url="memory://", broker_folder=str(tmp_path / "b"), **fields)
    for build in (build_app, celery_config):
        with pytest.raises(ValueError, match=r"^bad (broker|result backend) URL '[^']*\*\*\*\*"):
            build(settings)
        with pytest.raises(ValueError) as info:
            build(settings)
        assert "SE" not in str(info.value)
        assert "CRET" not in str(info.value)
    assert not (tmp_path / "b").exists()  # refused before any folder is made


def test_a_result_folder_with_an_at_sign_is_a_path_not_user_info(tmp_path: Path) -> None:
    folder = tmp_path / "a@b"
    build_app(Settings(route_store_url="memory://", result_backend=f"file://{folder}"))
    assert folder.is_dir()


@routed("u.split.notify", task="u.split.notify")
def notify(n: int) -> str:
    return "monolith"


@routed("u.split.quote", task="u.split.quote", style="request_reply", timeout=1.0)
def quote(n: int) -> dict[str, Any]:
    return {"by": "monolith", "n": n}


@pytest.fixture
def bad_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's settings (first use, from the environment) name a split-prone broker."""
    monkeypatch.setenv("STRANGLER_BROKER_URL", "amqp://guest:SE/CRET@127.0.0.1//")
    monkeypatch.setenv("STRANGLER_ROUTE_STORE", "memory://")
    monkeypatch.setenv("STRANGLER_ROUTE_TTL", "0")
    monkeypatch.setenv("STRANGLER_RESULT_BACKEND", f"file://{tmp_path}/results")
    monkeypatch.chdir(tmp_path)
    reset_runtime()
    publisher.reset()
    breakers.clear()
    yield
    publisher.reset()
    reset_runtime()
    breakers.clear()


def test_a_routed_call_falls_back_without_the_password_in_the_log(
    bad_broker: None, caplog: pytest.LogCaptureFixture
) -> None:
    store = get_runtime().store  # built on first use from the environment
    store.set(Route("u.split.notify", Mode.FUNCTION), actor="test")
    store.set(Route("u.split.quote", Mode.FUNCTION), actor="test")
    caplog.set_level(logging.DEBUG)
    assert notify(1) == "monolith"  # fire-and-forget: the body ran instead
    assert quote(2) == {"by": "monolith", "n": 2}
    assert "bad broker URL 'amqp://guest:****@127.0.0.1//'" in caplog.text
    assert "SE" not in caplog.text
    assert "CRET" not in caplog.text
