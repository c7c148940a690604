"""Annotation -> JSON Schema mapping, and the isort-style import layout."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from analyzers.facts import ArgKind
from strangler.codemods._imports import ImportLine, render_imports
from strangler.codemods.schema import ParamSchema, argument_schema, sample_value


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (None, {}),
        ("int", {"type": "integer"}),
        ("float", {"type": "number"}),
        ("'str'", {"type": "string"}),
        ("int | None", {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        ("Optional[bool]", {"anyOf": [{"type": "boolean"}, {"type": "null"}]}),
        ("list[int]", {"type": "array", "items": {"type": "integer"}}),
        ("tuple[str, ...]", {"type": "array", "items": {"type": "string"}}),
        ("dict[str, float]", {"type": "object", "additionalProperties": {"type": "number"}}),
        ("typing.Mapping[str, Any]", {"type": "object"}),
        ("Order", {}),  # unknown: any value rather than a guess
        ("Order | None", {}),
        ("not valid (", {}),
    ],
)
def test_annotations(annotation: str | None, expected: dict[str, Any]) -> None:
    assert argument_schema(ParamSchema("x", annotation)) == expected


def test_orm_instance_wins_over_its_annotation() -> None:
    schema = argument_schema(ParamSchema("o", "Order", arg_kind=ArgKind.ORM_INSTANCE, model="a.B"))
    assert schema["properties"]["$model"] == {"const": "a.B"}
    assert schema["required"] == ["$model", "pk"]


def test_star_parameters() -> None:
    assert argument_schema(ParamSchema("a", "int", kind="var_positional")) == {
        "type": "array",
        "items": {"type": "integer"},
    }
    assert argument_schema(ParamSchema("k", None, kind="var_keyword")) == {"type": "object"}


@pytest.mark.parametrize(
    ("schema", "sample"),
    [
        ({"type": "integer"}, 1),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, "sample"),
        ({"const": "x"}, "x"),
        ({"type": ["integer", "string"]}, 1),
        ({}, None),
    ],
)
def test_samples(schema: dict[str, Any], sample: object) -> None:
    assert sample_value(schema) == sample


def test_import_layout_follows_isort() -> None:
    lines = {
        ImportLine("__future__", "annotations"),
        ImportLine("os.path", asname="osp"),
        ImportLine("json"),
        ImportLine("mod10"),
        ImportLine("mod2"),
        ImportLine("x", "func"),
        ImportLine("x", "CONST"),
        ImportLine("x", "Klass"),
        ImportLine("x", "a", "b"),
        ImportLine("shop.models", "Order"),
        ImportLine("shop.models", "Cart", type_checking=True),
        ImportLine("django.conf", "settings"),
    }
    assert render_imports(lines, {"shop"}, 88) == (
        "from __future__ import annotations\n"
        "\n"
        "import json\n"
        "import os.path as osp\n"
        "from typing import TYPE_CHECKING\n"
        "\n"
        "import mod2\n"
        "import mod10\n"
        "from django.conf import settings\n"
        "from x import CONST, Klass, func\n"
        "from x import a as b\n"
        "\n"
        "from shop.models import Order\n"
        "\n"
        "if TYPE_CHECKING:\n"
        "    from shop.models import Cart\n"
    )


def test_long_from_import_wraps_one_member_a_line() -> None:
    names = [f"name_{i}" for i in range(12)]
    text = render_imports({ImportLine("pkg.module", n) for n in names}, set(), 60)
    assert text.startswith("from pkg.module import (\n    name_0,\n    name_1,\n    name_2,\n")
    assert text.endswith("    name_9,\n    name_10,\n    name_11,\n)\n")  # natural order


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        ("Decimal", "12.50"),
        ("decimal.Decimal", "0.10"),
        ("datetime", "2026-11-27T21:39:00+00:00"),
        ("date", "2026-11-27"),
        ("uuid.UUID", "12345678-1234-5678-1234-567812345678"),
    ],
)
def test_value_type_schemas_accept_what_the_shim_sends(annotation: str, value: str) -> None:
    """The schema and the shim's encoder must agree, or real events are dead-lettered."""
    import datetime
    import decimal
    import uuid

    from shims.encoding import encode_value

    parse = {
        "Decimal": decimal.Decimal,
        "datetime": datetime.datetime.fromisoformat,
        "date": datetime.date.fromisoformat,
        "UUID": uuid.UUID,
    }[annotation.rsplit(".", 1)[-1]]
    schema = argument_schema(ParamSchema("x", annotation))
    jsonschema.validate(encode_value(parse(value)), schema)
    jsonschema.validate(sample_value(schema), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(12.5, schema)  # a float would round money: refused
