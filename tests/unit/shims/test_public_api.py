"""The public names of ``shims`` and ``shims.django``: explicit ``__all__``, all importable."""

from __future__ import annotations

import importlib

import pytest


def test_the_exceptions_callers_catch_are_exported() -> None:
    import shims
    from shims.dispatch import BreakerOpen
    from shims.encoding import UnencodableArgument

    assert {"UnencodableArgument", "BreakerOpen"} <= set(shims.__all__)
    assert shims.UnencodableArgument is UnencodableArgument
    assert shims.BreakerOpen is BreakerOpen


@pytest.mark.parametrize("name", ["shims", "shims.django", "shims.django.apps"])
def test_every_name_in_all_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__dict__.get("__all__")
    assert exported is not None, f"{name} has no __all__"
    assert [n for n in exported if not hasattr(module, n)] == []


def test_every_redis_database_has_one_owner() -> None:
    from tests.conftest import REDIS_DBS

    dbs = list(REDIS_DBS.values())
    assert len(dbs) == len(set(dbs)), REDIS_DBS
    assert all(1 <= db <= 15 for db in dbs)  # Redis has 0-15; 0 is left to people
