"""The shim's Celery apps speak JSON only; anything allowing pickle is refused."""

from __future__ import annotations

import pytest
from celery import Celery

from shims.celery import UnsafeSerializerError, build_app, ensure_json_only
from shims.config import Settings


def settings(tmp_path: object) -> Settings:
    return Settings(broker_folder=f"{tmp_path}/broker", result_backend=f"file://{tmp_path}/results")


def test_built_app_is_json_only_with_late_acks(tmp_path: object) -> None:
    app = build_app(settings(tmp_path))
    conf = app.conf
    assert conf.task_serializer == conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.task_acks_late
    assert conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    folders = conf.broker_transport_options
    assert folders["data_folder_in"] == folders["data_folder_out"]
    assert (tmp_path / "broker" / "queue").is_dir()  # type: ignore[operator]
    assert (tmp_path / "results").is_dir()  # type: ignore[operator]


@pytest.mark.parametrize(
    "overrides",
    [
        {"accept_content": ["json", "pickle"]},
        {"accept_content": "pickle"},
        {"task_serializer": "pickle"},
        {"result_serializer": "pickle"},
        {"result_accept_content": ["application/x-python-serialize"]},
        {"accept_content": ["yaml"]},
    ],
)
def test_anything_but_json_is_refused(tmp_path: object, overrides: dict[str, object]) -> None:
    with pytest.raises(UnsafeSerializerError, match="refused"):
        build_app(settings(tmp_path), **overrides)


def test_user_apps_are_checked_too() -> None:
    app = Celery("user", set_as_current=False)
    app.conf.accept_content = ["pickle", "json"]
    with pytest.raises(UnsafeSerializerError, match="accept_content"):
        ensure_json_only(app)
    app.conf.accept_content = ["json"]
    assert ensure_json_only(app) is app


def test_handlers_refuse_to_register_on_a_pickle_app() -> None:
    from shims.handlers import handler

    app = Celery("user", set_as_current=False)
    app.conf.task_serializer = "pickle"
    with pytest.raises(UnsafeSerializerError, match="task_serializer='pickle'"):
        handler(app, "t.x")
