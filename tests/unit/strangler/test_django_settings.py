"""The settings codemod: before/after strings, idempotence, exact inverse."""

from __future__ import annotations

import pytest

from strangler.codemods import Status, run_codemod
from strangler.django_settings import AddShimSettings

AUTH = '"django.contrib.auth.middleware.AuthenticationMiddleware"'
ROUTING = '"shims.django.middleware.RoutingKeyMiddleware"'

CASES = [
    (
        'INSTALLED_APPS = ["a", "b"]\nMIDDLEWARE = [' + AUTH + ', "x"]\n',
        'INSTALLED_APPS = ["a", "b", "shims.django"]\nMIDDLEWARE = ['
        + AUTH
        + ", "
        + ROUTING
        + ', "x"]\n',
    ),
    (
        'INSTALLED_APPS = [\n    "a",\n    "b",  # the project\n]\nMIDDLEWARE = (\n    '
        + AUTH
        + ",\n)\n",
        'INSTALLED_APPS = [\n    "a",\n    "b",  # the project\n    "shims.django",\n]\n'
        "MIDDLEWARE = (\n    " + AUTH + ",\n    " + ROUTING + ",\n)\n",
    ),
    (
        'INSTALLED_APPS = [\n    "a",\n    "b"\n]\nMIDDLEWARE = ["x"]\n',
        'INSTALLED_APPS = [\n    "a",\n    "b",\n    "shims.django"\n]\nMIDDLEWARE = ["x", '
        + ROUTING
        + "]\n",
    ),
]


@pytest.mark.parametrize(("before", "after"), CASES)
def test_adds_app_and_middleware(before: str, after: str) -> None:
    result = run_codemod(AddShimSettings(), before)
    assert result.code == after
    assert run_codemod(AddShimSettings(), after).status is Status.UNCHANGED


@pytest.mark.parametrize(("before", "after"), CASES)
def test_remove_is_the_exact_inverse(before: str, after: str) -> None:
    assert run_codemod(AddShimSettings(remove=True), after).code == before


def test_settings_built_by_code_get_a_note_and_no_change() -> None:
    code = "INSTALLED_APPS = BASE + ['a']\n\ndef f():\n    MIDDLEWARE = []\n"
    result = run_codemod(AddShimSettings(), code)
    assert result.code == code
    assert any("INSTALLED_APPS" in n and "by hand" in n for n in result.notes)
    assert any("MIDDLEWARE" in n for n in result.notes)
