"""analyzers._make: the fast constructors build exactly what the dataclass would."""

from __future__ import annotations

import dataclasses

import pytest

from analyzers._make import maker
from analyzers.facts import ArgKind, Argument, Call, Definition, DefKind, Location, Param


def test_same_value_hash_and_immutability_as_the_dataclass() -> None:
    loc = maker(Location)("a.py", 3, 4)
    assert loc == Location("a.py", 3, 4)
    assert hash(loc) == hash(Location("a.py", 3, 4))
    assert type(loc) is Location
    assert str(loc) == "a.py:3"
    with pytest.raises(dataclasses.FrozenInstanceError):
        loc.line = 5  # type: ignore[misc]


def test_every_field_in_declaration_order() -> None:
    arg = maker(Argument)("x", ArgKind.JSON, "k", None, "m.x")
    call = maker(Call)("m.f", "m.g", "g(x)", Location("a.py", 1), (arg,), True, False)
    assert call == Call("m.f", "m.g", "g(x)", Location("a.py", 1), (arg,), True, False)
    d = maker(Definition)(
        "m.f",
        DefKind.FUNCTION,
        Location("a.py", 1),
        2,
        None,
        (Param("x"),),
        (),
        (),
        False,
        None,
        None,
    )
    assert d == Definition("m.f", DefKind.FUNCTION, Location("a.py", 1), 2, params=(Param("x"),))


def test_a_missing_field_is_an_error_not_a_default() -> None:
    with pytest.raises(TypeError):
        maker(Location)("a.py", 3)


def test_refuses_classes_it_cannot_build_safely() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            pass

    for cls in (NoSlots, Checked):
        with pytest.raises(TypeError):
            maker(cls)


def test_definition_with_resolved_is_dataclasses_replace_of_the_late_fields() -> None:
    """The one copy of a Definition with its late fields (decorators, bases, returns),
    shared by parse (first resolution) and link (across modules)."""
    d = Definition(
        "m.C",
        DefKind.CLASS,
        Location("m.py", 3),
        9,
        parent="m",
        params=(Param("x"),),
        decorators=("dec",),
        bases=("?Base",),
        is_async=True,
        docstring="doc",
        returns="m.R",
    )
    new = d.with_resolved(("m.dec",), ("m.Base",), None)
    assert new == dataclasses.replace(d, decorators=("m.dec",), bases=("m.Base",), returns=None)
    assert type(new) is Definition
    assert d.with_resolved(d.decorators, d.bases, d.returns) == d
