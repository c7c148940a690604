"""Properties over generated Python source (hypothesmith): no-op and round trip."""

from __future__ import annotations

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, given, settings

from strangler.codemods import AddRoutedDecorator, RemoveRouted, RoutedSpec, Status, run_codemod

SPEC = RoutedSpec("prop.target", task="functions.prop.tasks.target")
TARGET = "\n\ndef strangler_target(a, *b, **c):\n    return a\n"


def parses(code: str) -> bool:
    try:
        cst.parse_module(code)
    except Exception:  # hypothesmith can produce code libcst's grammar rejects
        return False
    return True


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_add_then_remove_restores_any_module(code: str) -> None:
    code = code if code.endswith("\n") or not code else code + "\n"
    module = code + TARGET
    # A form feed in indentation trips libcst's own import helper (a FAILED value).
    assume(parses(module) and "routed" not in module and "\x0c" not in module)
    added = run_codemod(AddRoutedDecorator({"strangler_target": SPEC}), module)
    assert added.status is Status.CHANGED, added
    assert "from shims import routed" in added.code
    again = run_codemod(AddRoutedDecorator({"strangler_target": SPEC}), added.code)
    assert again.status is Status.UNCHANGED
    removed = run_codemod(RemoveRouted("prop.target"), added.code)
    assert removed.code == module


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_no_target_means_no_change(code: str) -> None:
    assume(parses(code))
    for codemod in (AddRoutedDecorator({"absent": SPEC}), RemoveRouted("prop.target")):
        result = run_codemod(codemod, code)
        assert result.code == code
        assert result.status is not Status.CHANGED
