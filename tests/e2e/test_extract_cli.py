"""`strangler extract` / `retire` on a copy of demo_monolith: refusals, bad input,
dry-run, --apply, twice, --revert, retire gated by the route store. No worker needed."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from strangler.cli import main
from tests.e2e.democopy import fresh_copy, git, ground_truth

ROOT = Path(__file__).parents[2]
ENV = {"STRANGLER_JOBS": "1", "STRANGLER_CACHE": "0"}


def _truth(key: str) -> list[str]:
    return ground_truth()[key]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return fresh_copy(tmp_path)


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts
    }


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={**ENV, **(env or {})})


@pytest.mark.parametrize("capability", _truth("do_not_extract"))
def test_blocked_capability_is_refused_with_the_blockers(shop: Path, capability: str) -> None:
    before = _tree(shop)
    result = _run("extract", str(shop), capability, "--apply")
    assert result.exit_code == 1
    assert "is blocked" in result.stderr
    assert re.search(r"at [\w/]+\.py:\d+", result.stderr), result.stderr  # file:line reasons
    assert _tree(shop) == before


def test_unknown_capability_and_missing_path_are_bad_input(shop: Path, tmp_path: Path) -> None:
    before = _tree(shop)
    unknown = _run("extract", str(shop), "no.such.capability", "--apply")
    missing = _run("extract", str(tmp_path / "nowhere"), "catalog.images.make_thumbnail")
    bad_target = _run("extract", str(shop), "catalog.images.make_thumbnail", "--target", "../x")
    for result in (unknown, missing, bad_target):
        assert result.exit_code == 2, result.output
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert _tree(shop) == before


def test_dry_run_prints_the_diff_and_writes_nothing(shop: Path) -> None:
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail")
    assert result.exit_code == 0, result.stderr
    assert "+++ b/functions/catalog_images_make_thumbnail/handlers.py" in result.stdout
    assert "--- /dev/null" in result.stdout  # new files are in the diff
    assert "+@routed(" in result.stdout
    assert _tree(shop) == before


def test_plan_shows_style_schema_and_coupling(shop: Path) -> None:
    result = _run("extract", str(shop), "notifications.emails.send_order_confirmation", "--plan")
    assert result.exit_code == 0, result.stderr
    assert "dispatch fire_and_forget" in result.stdout
    assert "order: orm_instance orders.Order" in result.stdout
    assert "refetches it from the shared database" in result.stdout


def test_apply_twice_then_revert_restores_the_tree(shop: Path) -> None:
    before = _tree(shop)
    capability = "shipping.quotes.quote"
    applied = _run("extract", str(shop), capability, "--apply")
    assert applied.exit_code == 0, applied.stderr
    assert "functions/shipping_quotes_quote/tasks.py" in applied.stdout
    assert "@routed(" in (shop / "shipping/quotes.py").read_text()
    again = _run("extract", str(shop), capability)
    assert again.exit_code == 0
    assert again.stdout == ""
    # shipping/quotes.py is now modified and uncommitted: --revert --apply needs --force
    refused = _run("extract", str(shop), capability, "--revert", "--apply")
    assert refused.exit_code == 1
    assert "uncommitted" in refused.stderr
    reverted = _run("extract", str(shop), capability, "--revert", "--apply", "--force")
    assert reverted.exit_code == 0, reverted.stderr
    assert _tree(shop) == before


def test_a_module_capability_extracts_once_and_leaves_the_ranking_as_it_was(
    shop: Path,
) -> None:
    """The handler package lands inside the project (``functions/``), yet it is not the
    monolith: analysed with it, ``payments.capture``'s moved copy read as a second writer
    of its tables and its exception class as an entry point, so the second dry run
    was refused (``PaymentDeclined: no module-level function``) and every capability
    that shares a table with it gained blockers."""
    capability = "payments.capture"
    before = _run("analyze", str(shop), "--format", "json", "--top", "0")
    applied = _run("extract", str(shop), capability, "--apply", "--force")
    assert applied.exit_code == 0, applied.stderr
    again = _run("extract", str(shop), capability, "--force")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == ""
    after = _run("analyze", str(shop), "--format", "json", "--top", "0")

    def blockers(result: Result) -> dict[str, int]:
        caps = json.loads(result.stdout)["capabilities"]
        return {c["name"]: len(c["blockers"]) for c in caps}

    assert blockers(after) == blockers(before)


def test_a_coding_cookie_and_a_bom_are_kept_byte_for_byte(shop: Path) -> None:
    images, settings = shop / "catalog/images.py", shop / "shop/settings.py"
    cookie = "# -*- coding: latin-1 -*-\n# café\n"
    images.write_bytes((cookie + images.read_text("utf-8")).encode("latin-1"))
    settings.write_bytes(b"\xef\xbb\xbf" + settings.read_bytes())
    git(shop, "commit", "-qam", "latin-1 and a BOM")
    before = _tree(shop)
    original = images.read_bytes()
    applied = _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply")
    assert applied.exit_code == 0, applied.output
    assert settings.read_bytes().startswith(b'\xef\xbb\xbf"""')  # the BOM is still there
    written = images.read_bytes()
    assert written.startswith(cookie.encode("latin-1"))  # still latin-1, the é one byte
    assert (
        written.decode("latin-1").replace("from shims import routed\n", "").count("@routed(") == 1
    )
    reverted = _run("extract", str(shop), "catalog.images.make_thumbnail", "--revert", "--apply")
    assert reverted.exit_code == 1  # uncommitted: the revert needs --force
    forced = _run(
        "extract", str(shop), "catalog.images.make_thumbnail", "--revert", "--apply", "--force"
    )
    assert forced.exit_code == 0, forced.output
    assert images.read_bytes() == original
    assert _tree(shop) == before


def test_a_crlf_module_gives_generated_files_with_crlf_only(shop: Path) -> None:
    images = shop / "catalog/images.py"
    images.write_bytes(images.read_bytes().replace(b"\n", b"\r\n"))
    git(shop, "commit", "-qam", "CRLF")
    applied = _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply")
    assert applied.exit_code == 0, applied.output
    package = shop / "functions/catalog_images_make_thumbnail"
    for path in [images, *package.rglob("*.py"), *package.rglob("*.json")]:
        data = path.read_bytes()
        assert data.count(b"\n") == data.count(b"\r\n") > 0, path
    git(shop, "add", "-A")
    git(shop, "commit", "-qm", "extracted")
    again = _run("extract", str(shop), "catalog.images.make_thumbnail")
    assert again.exit_code == 0
    assert again.stdout == ""


def test_apply_refuses_over_uncommitted_changes(shop: Path) -> None:
    target = shop / "catalog/images.py"
    target.write_text(target.read_text() + "\n# local edit\n")
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply")
    assert result.exit_code == 1
    assert "catalog/images.py" in result.stderr
    assert _tree(shop) == before


def test_retire_only_after_function(shop: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/routes.db"
    capability, feature = "catalog.images.make_thumbnail", "catalog.make_thumbnail"
    assert _run("extract", str(shop), capability, "--apply").exit_code == 0
    git(shop, "add", "-A")
    git(shop, "commit", "-q", "-m", "extract")
    before = _tree(shop)
    unset = _run("retire", str(shop), feature, "--apply", "--store", store)
    assert unset.exit_code == 1
    assert "unset (monolith)" in unset.stderr
    canary_set = _run("route", "set", feature, "canary", "--percent", "50", "--store", store)
    assert canary_set.exit_code == 0
    canary = _run("retire", str(shop), feature, "--apply", "--store", store)
    assert canary.exit_code == 1
    assert "canary 50%" in canary.stderr
    assert _tree(shop) == before

    assert _run("route", "set", feature, "function", "--store", store).exit_code == 0
    dry = _run("retire", str(shop), feature, "--store", store)
    assert dry.exit_code == 0, dry.stderr
    assert "+    return dispatch_only(" in dry.stdout
    assert _tree(shop) == before
    done = _run("retire", str(shop), feature, "--apply", "--store", store)
    assert done.exit_code == 0, done.stderr
    assert done.stdout.startswith("wrote 1 file:\n")
    code = (shop / "catalog/images.py").read_text()
    assert "dispatch_only(" in code
    assert "@routed(" not in code
    again = _run("retire", str(shop), feature, "--store", store)
    assert again.exit_code == 0
    assert again.stdout == ""


def _retired_copy(shop: Path, tmp_path: Path) -> None:
    """``shop`` with catalog.images.make_thumbnail extracted and retired, committed."""
    store = f"sqlite:///{tmp_path}/routes.db"
    feature = "catalog.make_thumbnail"
    assert _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply").exit_code == 0
    assert _run("route", "set", feature, "function", "--store", store).exit_code == 0
    assert _run("retire", str(shop), feature, "--apply", "--force", "--store", store).exit_code == 0
    git(shop, "add", "-A")
    git(shop, "commit", "-q", "-m", "extract and retire")


def test_extract_after_retire_changes_nothing(shop: Path, tmp_path: Path) -> None:
    _retired_copy(shop, tmp_path)
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply")
    assert result.exit_code == 0, result.output
    assert "already extracted and retired" in result.stderr
    assert _tree(shop) == before
    handlers = shop / "functions/catalog_images_make_thumbnail/handlers.py"
    assert "dispatch_only" not in handlers.read_text()


def test_revert_after_retire_is_refused(shop: Path, tmp_path: Path) -> None:
    _retired_copy(shop, tmp_path)
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail", "--revert", "--apply")
    assert result.exit_code == 1, result.output
    assert "is retired" in result.stderr
    assert "restore the body" in result.stderr
    assert _tree(shop) == before


def test_extract_of_a_retired_entry_point_without_its_package_is_refused(
    shop: Path, tmp_path: Path
) -> None:
    _retired_copy(shop, tmp_path)
    git(shop, "rm", "-rq", "functions/catalog_images_make_thumbnail")
    git(shop, "commit", "-q", "-m", "lost the package")
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply")
    assert result.exit_code == 1, result.output
    assert "no longer has the code to extract" in result.stderr
    assert _tree(shop) == before


def test_an_instance_method_is_refused_even_with_force(shop: Path) -> None:
    before = _tree(shop)
    capability = "orders.cart.Cart.weight_grams"
    plan = _run("extract", str(shop), capability, "--plan")
    assert plan.exit_code == 1, plan.output
    assert "CANNOT BE EXTRACTED" in plan.stdout
    assert "is an instance method at orders/cart.py:" in plan.stdout
    forced = _run("extract", str(shop), capability, "--apply", "--force")
    assert forced.exit_code == 1, forced.output
    assert "self cannot travel in an event" in forced.stderr
    assert "module-level function" in forced.stderr
    assert _tree(shop) == before


def test_a_function_defined_twice_is_refused_as_ambiguous(shop: Path) -> None:
    images = shop / "catalog/images.py"
    images.write_text(images.read_text() + "\n\ndef make_thumbnail(product_id):\n    return None\n")
    git(shop, "commit", "-qam", "a second make_thumbnail")
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply", "--force")
    assert result.exit_code == 1, result.output
    assert re.search(
        r"ambiguous: defined 2 times, at catalog/images\.py:\d+, catalog/images\.py:\d+",
        result.stderr,
    )
    assert _tree(shop) == before


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (
            lambda shop: (shop / "functions/catalog_images_make_thumbnail/handlers.py").mkdir(
                parents=True
            ),
            "handlers.py is a directory where the file would be written",
        ),
        (
            lambda shop: (shop / "functions").write_text(""),
            "functions is a file where a folder of generated files would be",
        ),
    ],
)
def test_a_generated_path_taken_by_the_wrong_kind_of_file_is_one_line_refused(
    shop: Path, make: Callable[[Path], object], says: str
) -> None:
    make(shop)
    before = _tree(shop)
    for flags in ((), ("--apply",)):
        result = _run("extract", str(shop), "catalog.images.make_thumbnail", *flags)
        assert result.exit_code == 1, result.output
        assert result.stderr.count("\n") == 1, result.stderr
        assert says in result.stderr
        assert _tree(shop) == before


def test_entry_point_routed_as_another_feature_is_refused(shop: Path) -> None:
    images = shop / "catalog/images.py"
    code = images.read_text().replace(
        "def make_thumbnail(", '@routed("other.feature", task="x.tasks.y")\ndef make_thumbnail('
    )
    images.write_text("from shims import routed\n" + code)
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply", "--force")
    assert result.exit_code == 1
    assert "already routed as 'other.feature'" in result.stderr
    assert _tree(shop) == before


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--target", "/tmp/strangler_abs_target", "inside the project"),
        ("--target", "functions/../../x", "inside the project"),
        ("--target", "catalog/images", "would shadow the project's module catalog.images"),
        ("--target", "catalog/images.py", "not a folder name usable as a Python package"),
        ("--target", "catalog", "is the project's own package catalog"),
        ("--target", "class", "'class' is a Python keyword"),
        ("--celery-app", 'os:system("id")', "module:attr"),
        ("--celery-app", "shop.celery:", "module:attr"),
        ("--celery-app", "shop..celery:app", "module:attr"),
    ],
)
def test_bad_target_or_celery_app_is_bad_input(
    shop: Path, flag: str, value: str, says: str
) -> None:
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply", flag, value)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert says in result.stderr
    assert _tree(shop) == before
    assert not Path("/tmp/strangler_abs_target").exists()


def test_celery_app_is_accepted_as_module_colon_attr(shop: Path) -> None:
    result = _run(
        "extract", str(shop), "catalog.images.make_thumbnail", "--celery-app", "shop.celery:app"
    )
    assert result.exit_code == 0, result.stderr
    assert "+from shop.celery import app" in result.stdout


def test_generated_code_that_does_not_parse_is_refused(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import strangler.extract as use_cases

    real = use_cases.generate_handler_package

    def broken(spec: object) -> object:
        package = real(spec)  # type: ignore[arg-type]
        files = dict(package.files)  # type: ignore[union-attr]
        path = next(p for p in files if p.endswith("/handlers.py"))
        files[path] += "\ndef broken(:\n"
        return replace(package, files=files)  # type: ignore[type-var]

    monkeypatch.setattr(use_cases, "generate_handler_package", broken)
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail", "--apply")
    assert result.exit_code == 1, result.output
    assert "handlers.py" in result.stderr
    assert "does not parse" in result.stderr
    assert _tree(shop) == before


def test_an_undecodable_module_in_the_target_folder_is_one_line(shop: Path) -> None:
    (shop / "functions").mkdir()
    (shop / "functions" / "__init__.py").write_bytes(b'"""caf\xe9"""\n')  # latin-1, no cookie
    before = _tree(shop)
    result = _run("extract", str(shop), "catalog.images.make_thumbnail")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("strangler: error: ")
    assert "functions/__init__.py" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert _tree(shop) == before
