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
