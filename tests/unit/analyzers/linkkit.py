"""Helpers for resolution tests: a few source files in, linked facts out (no disk)."""

from __future__ import annotations

from textwrap import dedent

from analyzers.facts import Call, ModuleFacts
from analyzers.link import link
from analyzers.parse import facts_from_source, module_name


def project(files: dict[str, str]) -> dict[str, ModuleFacts]:
    """Parse each ``relpath: source`` and link them together; keyed by module name."""
    parsed = []
    for relpath, source in files.items():
        facts = facts_from_source(dedent(source), module=module_name(relpath), path=relpath)
        assert isinstance(facts, ModuleFacts), facts
        parsed.append(facts)
    return {m.module: m for m in link(parsed)}


def calls_in(facts: ModuleFacts, caller: str) -> list[Call]:
    return [c for c in facts.calls if c.caller == caller]


def callee(facts: ModuleFacts, caller: str, text: str) -> str | None:
    """The resolved callee of the one call written ``text`` inside ``caller``."""
    found = [c for c in calls_in(facts, caller) if c.text == text]
    assert len(found) == 1, [c.text for c in calls_in(facts, caller)]
    return found[0].callee
