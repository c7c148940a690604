"""Over the installed Django source, codemods with nothing to change change nothing.

~885 real-world modules (every Python syntax Django uses, odd formatting, comments,
nested classes) go through parse -> transform -> code, and each must come back
byte-identical: the guarantee that ``strangler extract`` only touches what it means to.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import django
import libcst as cst
import pytest

from strangler.codemods import AddRoutedDecorator, RemoveRouted, RetireMonolithPath, RoutedSpec

DJANGO = Path(django.__file__).parent
SPEC = RoutedSpec("nothing.here", task="functions.nothing.tasks.here")


def codemods() -> list[cst.codemod.Codemod]:
    return [
        # Model, Field, View and Form are real classes (several of each name), so these
        # targets make the codemod walk into them and into View.get - and match nothing.
        AddRoutedDecorator(
            {
                "Model.no_such_method": SPEC,
                "Field.no_such_method": SPEC,
                "Form.no_such_method": SPEC,
                "View.get.<locals>.no_such_function": SPEC,
                "no_such_function": SPEC,
            }
        ),
        RemoveRouted("nothing.here"),
        RetireMonolithPath("nothing.here"),
    ]


def changed_by_codemods(paths: list[Path]) -> tuple[int, list[str]]:
    """How many files of ``paths`` went through every codemod, and those some codemod
    did not give back byte-identical."""
    changed: list[str] = []
    done = 0
    for path in paths:
        code = path.read_text(encoding="utf-8")
        tree = cst.parse_module(code)
        for codemod in codemods():
            if codemod.transform_module(tree).code != code:
                changed.append(f"{path.relative_to(DJANGO)}: {type(codemod).__name__}")
        done += 1
    return done, changed


@pytest.mark.slow
def test_codemods_leave_every_django_module_byte_identical() -> None:
    files = sorted(DJANGO.rglob("*.py"))
    assert len(files) > 500
    # libcst's parser is the cost (~50 s on one core): one share of the files per core
    workers = min(os.cpu_count() or 1, 4)
    shares = [files[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(changed_by_codemods, shares))
    assert sum(done for done, _ in results) == len(files)
    assert [line for _, part in results for line in part] == []
