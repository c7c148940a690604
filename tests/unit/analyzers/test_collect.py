"""collect(): discovery, exclusion, diagnostics, parallel parsing, and the Django corpus."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from analyzers.collect import CollectOptions, NothingToAnalyse, collect

BAD = Path(__file__).parents[2] / "data" / "bad"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def test_nonexistent_path_raises_nothing_to_analyse(tmp_path: Path) -> None:
    with pytest.raises(NothingToAnalyse, match="no such file"):
        collect(tmp_path / "missing")


def test_folder_without_python_raises_nothing_to_analyse(tmp_path: Path) -> None:
    write(tmp_path, {"README.md": "hi"})
    with pytest.raises(NothingToAnalyse, match="no Python files"):
        collect(tmp_path, CollectOptions(use_cache=False))


def test_collect_links_modules_and_keeps_going_past_bad_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/models.py": "from django.db import models\nclass Order(models.Model):\n"
            "    pass\n",
            "shop/views.py": "from .models import Order\ndef v():\n    Order.objects.all()\n",
            "shop/broken.py": "def f(:\n",
            "shop/tests/test_views.py": "def test_v():\n    pass\n",
            ".venv/lib/skipped.py": "x = 1\n",
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/python3.11/site.py": "x = 1\n",
            "shop/__pycache__/x.py": "x = 1\n",
        },
    )
    c = collect(tmp_path, CollectOptions(use_cache=False))
    modules = {m.module: m for m in c.modules}
    assert set(modules) == {"shop", "shop.models", "shop.views", "shop.tests.test_views"}
    assert modules["shop.tests.test_views"].is_test
    assert [(o.model, o.method) for o in modules["shop.views"].orm] == [
        ("shop.models.Order", "all")
    ]
    assert [(d.path, d.line) for d in c.diagnostics] == [("shop/broken.py", 1)]
    assert (c.stats.files, c.stats.parsed, c.stats.from_cache, c.stats.diagnostics) == (5, 5, 0, 1)
    assert c.stats.lines == sum(m.lines for m in c.modules)


def test_excludes_match_paths_and_names(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "", "migrations/0001.py": "", "b_test.py": "", "keep/c.py": ""})
    c = collect(tmp_path, CollectOptions(use_cache=False, excludes=("migrations", "*_test.py")))
    assert sorted(m.module for m in c.modules) == ["a", "keep.c"]


def test_the_default_migrations_glob_also_applies_when_path_is_the_app(tmp_path: Path) -> None:
    """``strangler analyze shop/orders`` must skip ``orders/migrations`` as the project run does."""
    write(tmp_path, {"models.py": "", "migrations/0001_initial.py": "", "migrations.py": ""})
    c = collect(tmp_path, CollectOptions(use_cache=False, excludes=("*/migrations/*",)))
    assert sorted(m.module for m in c.modules) == ["migrations", "models"]


def test_bad_corpus_collects_with_one_diagnostic_per_bad_file(tmp_path: Path) -> None:
    c = collect(BAD, CollectOptions(use_cache=False))
    assert len(c.diagnostics) == 8
    assert {m.module for m in c.modules} == {
        "latin1_with_cookie",
        "utf8_bom",
        "py312_generics",
        "py312_fstrings",
        "py314_syntax",
    }


def test_progress_reports_reach_the_total(tmp_path: Path) -> None:
    write(tmp_path, {f"m{i}.py": "x = 1\n" for i in range(3)})
    seen: list[tuple[int, int]] = []
    collect(tmp_path, CollectOptions(use_cache=False, progress=lambda d, t: seen.append((d, t))))
    assert seen[-1] == (3, 3)


def test_a_single_file_can_be_analysed(tmp_path: Path) -> None:
    write(tmp_path, {"script.py": "def main():\n    print('x')\n"})
    c = collect(tmp_path / "script.py", CollectOptions(use_cache=False))
    assert [m.module for m in c.modules] == ["script"]


@pytest.mark.skipif(sys.platform == "win32", reason="fork-based pool")
def test_process_pool_gives_the_same_facts_as_in_process(tmp_path: Path) -> None:
    files = {
        f"pkg/m{i}.py": f"from pkg.m{(i + 1) % 200} import f{(i + 1) % 200}\n"
        f"def f{i}():\n    f{(i + 1) % 200}()\n"
        for i in range(200)
    }
    write(tmp_path, {"pkg/__init__.py": "", **files})
    serial = collect(tmp_path, CollectOptions(use_cache=False, jobs=1))
    parallel = collect(tmp_path, CollectOptions(use_cache=False, jobs=2))
    assert parallel.stats.jobs == 2
    assert serial.stats.jobs == 1
    assert parallel.modules == serial.modules
    call = next(m for m in parallel.modules if m.module == "pkg.m3").calls[0]
    assert call.callee == "pkg.m4.f4"


DJANGO = Path(__import__("django").__file__).parent


@pytest.mark.slow
def test_the_installed_django_source_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = collect(DJANGO, CollectOptions(cache_dir=tmp_path / "cache"))
    s = c.stats
    with capsys.disabled():  # the counts belong in the test log, -s or not
        print(
            f"\ndjango: {s.files} files, {s.lines} lines, {len(c.modules)} modules, "
            f"{s.diagnostics} diagnostics, {s.calls} calls ({s.unresolved_calls} unresolved), "
            f"{sum(len(m.models) for m in c.modules)} models, {s.seconds:.1f}s wall, "
            f"{s.cpu_seconds:.1f}s CPU, jobs={s.jobs}"
        )
    assert s.files > 800
    assert len(c.modules) + s.diagnostics == s.files
    assert s.calls > 30_000
    assert s.unresolved_calls < s.calls / 2
    models = {m.qualname for mod in c.modules for m in mod.models}
    assert "django.contrib.auth.models.User" in models
    assert "django.contrib.sessions.models.Session" in models


@pytest.mark.parametrize("jobs", [1, 2])
def test_lone_surrogates_in_string_literals_are_cached_not_a_crash(
    tmp_path: Path, jobs: int
) -> None:
    """``"\\udcff"`` is valid Python: a docstring or SQL literal holding it reaches
    the facts, which orjson refuses to encode (the pool's workers and the cache)."""
    odd = (
        'from django.db import connection\ndef f():\n    "doc \\udcff"\n'
        '    connection.cursor().execute("SELECT \\udcff FROM t")\n'
    )
    root = write(tmp_path, {f"app/m{i}.py": odd for i in range(160)})
    options = CollectOptions(jobs=jobs, cache_dir=tmp_path / "cache")
    cold = collect(root, options)
    assert not cold.diagnostics
    docs = {d.docstring for m in cold.modules for d in m.definitions}
    assert docs == {"doc \udcff"}
    warm = collect(root, options)
    assert warm.stats.linked_from_cache
    assert warm.modules == cold.modules


def test_build_and_dist_are_skipped_unless_they_are_packages(tmp_path: Path) -> None:
    """setuptools' ``build/lib/...`` copies are never project code; a Django app named
    ``build`` is (its ``__init__.py`` says so)."""
    write(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/build/__init__.py": "",
            "shop/build/tasks.py": "def run():\n    pass\n",
            "build/lib/shop/views.py": "x = 1\n",
            "dist/shop/views.py": "x = 1\n",
        },
    )
    modules = {m.module for m in collect(tmp_path, CollectOptions(use_cache=False)).modules}
    assert modules == {"shop", "shop.build", "shop.build.tasks"}
