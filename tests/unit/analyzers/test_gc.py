"""The analyzers pause the cyclic GC for their bulk work and give the caller's heap back
as it was: never frozen (a long-lived host - pytest, a server - would keep every object
alive at that moment, cyclic garbage included, out of reach of the collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzers._gc import paused_gc
from analyzers.analysis import analyze
from analyzers.collect import CollectOptions, collect

FILES = {
    "shop/__init__.py": "",
    "shop/models.py": "from django.db import models\nclass Order(models.Model):\n    pass\n",
    "shop/views.py": "from .models import Order\ndef v():\n    Order.objects.all()\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for relpath, text in FILES.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text)
    return tmp_path


@pytest.fixture(params=[True, False], ids=["gc-on", "gc-off"])
def gc_state(request: pytest.FixtureRequest) -> Iterator[bool]:
    was = gc.isenabled()
    if request.param:
        gc.enable()
    else:
        gc.disable()
    try:
        yield request.param
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def test_paused_gc_pauses_and_restores_the_previous_state(gc_state: bool) -> None:
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # nested: the outer pause still holds
    assert gc.isenabled() is gc_state


def test_paused_gc_restores_the_state_when_the_body_raises(gc_state: bool) -> None:
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled() is gc_state


@pytest.mark.parametrize("use_cache", [True, False])
def test_collect_leaves_the_callers_gc_as_it_was(
    project: Path, gc_state: bool, use_cache: bool
) -> None:
    frozen = gc.get_freeze_count()
    collect(project, CollectOptions(jobs=1, use_cache=use_cache))
    assert gc.get_freeze_count() == frozen
    assert gc.isenabled() is gc_state


def test_analyze_leaves_the_callers_gc_as_it_was(project: Path, gc_state: bool) -> None:
    collection = collect(project, CollectOptions(use_cache=False))
    frozen = gc.get_freeze_count()
    analyze(collection.modules, collection.diagnostics)
    assert gc.get_freeze_count() == frozen
    assert gc.isenabled() is gc_state
