"""The facts cache (issue 3 item 8): warm runs parse nothing, changes re-parse only
themselves, corrupt entries and new tool versions rebuild instead of crashing."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analyzers import cache as cache_module
from analyzers import cachefile
from analyzers.codec import decode, encode
from analyzers.collect import CollectOptions, collect
from analyzers.facts import Diagnostic, Location, ModuleFacts, OrmAccess, OrmOp
from analyzers.parse import facts_from_source

FILES = {
    "shop/__init__.py": "",
    "shop/models.py": "from django.db import models\nclass Order(models.Model):\n    pass\n",
    "shop/views.py": "from .models import Order\ndef v():\n    Order.objects.all()\n",
    "shop/util.py": "def fmt():\n    return 1\n",
    "shop/broken.py": "def f(:\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for relpath, text in FILES.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text)
    return root


def run(root: Path) -> tuple:
    c = collect(root, CollectOptions(jobs=1))
    return c, c.stats


def _payload(path: Path) -> Any:
    """The JSON a cache file holds, after its seal line."""
    payload = cachefile.read(path)
    assert payload is not None
    return json.loads(payload)


def test_cold_then_warm_run_parses_nothing_and_gives_the_same_facts(project: Path) -> None:
    cold, stats = run(project)
    assert (stats.parsed, stats.from_cache) == (5, 0)
    assert (project / ".strangler" / "cache" / "index.json").is_file()
    warm, stats = run(project)
    assert (stats.parsed, stats.from_cache) == (0, 5)
    assert stats.linked_from_cache
    assert warm.modules == cold.modules
    assert warm.diagnostics == cold.diagnostics


def test_without_snapshot_after_parse_the_snapshot_waits_for_a_run_that_parsed_nothing(
    project: Path,
) -> None:
    options = CollectOptions(jobs=1, snapshot_after_parse=False)
    linked = project / ".strangler" / "cache" / "linked.json"
    cold = collect(project, options)
    assert cold.stats.parsed == 5
    assert not linked.exists()
    again = collect(project, options)  # every file from the pack: linked, then snapshot
    assert (again.stats.parsed, again.stats.linked_from_cache) == (0, False)
    assert linked.is_file()
    warm = collect(project, options)
    assert warm.stats.linked_from_cache
    assert warm.modules == again.modules == cold.modules


def test_changing_one_file_reparses_only_that_file(project: Path) -> None:
    run(project)
    pack = _payload(project / ".strangler" / "cache" / "facts.json")
    assert len(pack["entries"]) == 5
    (project / "shop" / "util.py").write_text("def fmt():\n    return 2\n\ndef more():\n    pass\n")
    c, stats = run(project)
    assert (stats.parsed, stats.from_cache) == (1, 4)
    util = next(m for m in c.modules if m.module == "shop.util")
    assert [d.qualname for d in util.definitions] == ["shop.util.fmt", "shop.util.more"]


def test_deleted_files_leave_the_pack(project: Path) -> None:
    run(project)
    (project / "shop" / "util.py").unlink()
    _, stats = run(project)
    assert stats.parsed == 0
    pack = _payload(project / ".strangler" / "cache" / "facts.json")
    assert len(pack["entries"]) == 4


def test_touching_a_file_without_changing_it_reparses_nothing(project: Path) -> None:
    run(project)
    path = project / "shop" / "util.py"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    _, stats = run(project)
    assert stats.parsed == 0


def test_corrupt_cache_entries_rebuild(project: Path) -> None:
    cold, _ = run(project)
    cache_dir = project / ".strangler" / "cache"
    (cache_dir / "facts.json").write_bytes(b"{not json")
    (cache_dir / "linked.json").write_bytes(b'["wrong", "shape"]')
    c, stats = run(project)
    assert stats.parsed == 5
    assert c.modules == cold.modules
    _, stats = run(project)  # and the rebuilt entries serve the next run
    assert stats.parsed == 0


def test_structurally_wrong_entry_is_a_miss(project: Path) -> None:
    run(project)
    cache_dir = project / ".strangler" / "cache"
    (cache_dir / "linked.json").unlink()
    pack = _payload(cache_dir / "facts.json")
    victim = sorted(pack["entries"])[0]
    pack["entries"][victim] = ["M", "too", "short"]
    cachefile.write(cache_dir / "facts.json", [json.dumps(pack).encode()])  # sealed: a bug
    _, stats = run(project)
    assert stats.parsed == 1  # only the broken entry is rebuilt


def _edit_json(path: Path, change: Callable[[Any], None]) -> None:
    """Change the JSON in a cache file as a hand edit would: well-formed, its first line
    left as it was when that is not JSON (a seal line, which no longer matches)."""
    raw = path.read_bytes()
    seal, _, payload = (b"", b"", raw) if raw.startswith(b"{") else raw.partition(b"\n")
    data = json.loads(payload)
    change(data)
    path.write_bytes((seal + b"\n" if seal else b"") + json.dumps(data).encode())


def _module_names_as_lists(data: Any, modules: list[Any]) -> None:
    for encoded in modules:
        if encoded[0] in ("M", "C"):
            encoded[1] = [encoded[1]]  # a list where the module's name belongs


def test_a_wrong_typed_field_in_the_pack_rebuilds_instead_of_crashing_the_link(
    project: Path,
) -> None:
    cold, _ = run(project)
    cache_dir = project / ".strangler" / "cache"
    (cache_dir / "linked.json").unlink()
    _edit_json(
        cache_dir / "facts.json", lambda d: _module_names_as_lists(d, [*d["entries"].values()])
    )
    c, stats = run(project)  # was: TypeError: unhashable type: 'list' in link()
    assert stats.parsed == 5
    assert c.modules == cold.modules
    _, stats = run(project)
    assert stats.parsed == 0


def test_a_wrong_typed_field_in_the_snapshot_is_a_miss(project: Path) -> None:
    cold, _ = run(project)
    linked = project / ".strangler" / "cache" / "linked.json"
    _edit_json(linked, lambda d: _module_names_as_lists(d, d["modules"]))
    c, stats = run(project)
    assert not stats.linked_from_cache
    assert c.modules == cold.modules
    assert all(isinstance(m.module, str) for m in c.modules)


def test_an_edited_index_entry_is_a_miss_not_another_files_facts(project: Path) -> None:
    cold, _ = run(project)
    index = project / ".strangler" / "cache" / "index.json"

    def swap(data: Any) -> None:
        util, models = data["files"]["shop/util.py"], data["files"]["shop/models.py"]
        util[-1], models[-1] = models[-1], util[-1]  # each other's content key

    _edit_json(index, swap)
    c, _ = run(project)
    assert [m.path for m in c.modules] == [m.path for m in cold.modules]  # was: swapped
    assert c.modules == cold.modules


def test_a_same_size_edit_with_its_mtime_put_back_reparses(project: Path) -> None:
    """``touch -d``, ``cp -p``, ``tar`` and ``rsync -t`` restore an mtime; the ctime moves."""
    run(project)
    path = project / "shop" / "util.py"
    st = path.stat()
    time.sleep(0.02)  # past the file system's clock tick, so that the ctime moves
    path.write_text(FILES["shop/util.py"].replace("fmt", "fmx"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    c, stats = run(project)
    assert stats.parsed == 1
    util = next(m for m in c.modules if m.module == "shop.util")
    assert [d.qualname for d in util.definitions] == ["shop.util.fmx"]


def test_a_new_tool_version_rebuilds(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(project)
    monkeypatch.setattr(cache_module, "tool_fingerprint", lambda: "a-newer-version")
    _, stats = run(project)
    assert stats.parsed == 5


def test_no_cache_option_writes_nothing(project: Path) -> None:
    c = collect(project, CollectOptions(use_cache=False))
    assert c.stats.parsed == 5
    assert not (project / ".strangler").exists()


def test_cache_dir_is_configurable(project: Path, tmp_path: Path) -> None:
    collect(project, CollectOptions(cache_dir=tmp_path / "elsewhere"))
    assert (tmp_path / "elsewhere" / "linked.json").is_file()
    assert not (project / ".strangler").exists()


def test_no_temporary_files_are_left_behind(project: Path) -> None:
    run(project)
    leftovers = list((project / ".strangler").rglob(".tmp-*"))
    assert leftovers == []


def test_codec_round_trips_parsed_facts() -> None:
    src = (
        "from django.db import connection, models, transaction\nfrom django.conf import settings\n"
        "CACHE = {}\nclass A(models.Model):\n    b = models.ForeignKey('x.B', related_name='as')\n"
        "    objects = models.Manager.from_queryset(models.QuerySet)()\n"
        "    q = models.QuerySet.as_manager()\n    total = models.DecimalField()\n"
        "@transaction.atomic\n@deco(1)\ndef f(request, a: A):\n    CACHE['k'] = settings.X\n"
        "    g(a, lambda: 1, [1])\n"
        "    c = connection.cursor()\n    c.execute('SELECT 1 FROM t FOR UPDATE')\n"
        "from django import forms\nfrom django.contrib import admin\n"
        "class F(forms.ModelForm):\n    class Meta:\n        model = A\n"
        "admin.site.register(A)\n"
    )
    facts = facts_from_source(src, module="m", path="m.py")
    assert not isinstance(facts, Diagnostic)
    assert [len(m.managers) for m in facts.model_candidates] == [2, 0]  # A, F
    assert [m.value_fields for m in facts.model_candidates] == [(("total", "DecimalField"),), ()]
    assert [r.sql for r in facts.raw_sql] == ["SELECT 1 FROM t FOR UPDATE"]
    assert [(b.owner, b.kind.value, b.model) for b in facts.model_bindings] == [
        ("m", "admin", "m.A"),
        ("m.F", "meta", "m.A"),
    ]
    assert any(c.text == "@deco" for c in facts.calls)
    assert decode(encode(facts)) == facts
    assert decode(encode(facts, compact=True)) == facts


def test_codec_round_trips_raw_sql_accesses() -> None:
    """A raw SQL access carries its table (an 8th item); an ORM access does not."""
    loc = Location("m.py", 3, 4)
    facts = ModuleFacts(
        "m",
        "m.py",
        5,
        orm=(
            OrmAccess("m.f", "", OrmOp.WRITE, "execute", loc, False, "audit_log"),
            OrmAccess("m.f", "m.Order", OrmOp.READ, "execute", loc, True, "ORDERS"),
            OrmAccess("m.f", "m.Order", OrmOp.READ, "filter", loc),
        ),
    )
    assert decode(json.loads(json.dumps(encode(facts)))) == facts
    assert [len(row) for row in encode(facts)[10]] == [8, 8, 7]


def test_held_back_writes_land_only_when_the_caller_saves(project: Path) -> None:
    """``write_cache=False``: a caller that may still refuse the project (nothing
    analysable, an unknown capability) decides whether anything is written."""
    cache_dir = project / ".strangler" / "cache"
    held = collect(project, CollectOptions(jobs=1, write_cache=False))
    assert not cache_dir.exists()
    held.save_cache()
    assert sorted(p.name for p in cache_dir.iterdir()) == [
        "facts.json",
        "index.json",
        "linked.json",
    ]
    warm = collect(project, CollectOptions(jobs=1))
    assert warm.stats.linked_from_cache
    assert warm.modules == held.modules


def test_save_cache_without_a_cache_writes_nothing(project: Path) -> None:
    collect(project, CollectOptions(use_cache=False, write_cache=False)).save_cache()
    assert not (project / ".strangler").exists()
