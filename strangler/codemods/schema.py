"""JSON Schema of an event's ``data``: the entry point's arguments by name.

Built from the annotations as written (source text, never evaluated) and from the
argument kinds the analysis found at the call sites: an ORM instance travels as
``{"$model": "app_label.ModelName", "pk": ...}`` whatever its annotation says. An
annotation the mapping does not know (a class, a type alias) allows any JSON value:
a schema that is too loose is honest; a guessed one that rejects real events is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst

from analyzers.facts import ArgKind

__all__ = ["MODEL_KEY", "ParamSchema", "argument_schema", "data_schema", "sample_value"]

MODEL_KEY = "$model"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_SCALARS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "None": {"type": "null"},
    "list": {"type": "array"},
    "tuple": {"type": "array"},
    "set": {"type": "array"},
    "frozenset": {"type": "array"},
    "Sequence": {"type": "array"},
    "Iterable": {"type": "array"},
    "dict": {"type": "object"},
    "Mapping": {"type": "object"},
    "Any": {},
    "object": {},
}


def _tagged(tag: str, fmt: str | None = None) -> dict[str, Any]:
    """A value the shim carries as ``{tag: text}`` (see ``shims.encoding``)."""
    text: dict[str, Any] = {"type": "string"}
    if fmt:
        text["format"] = fmt
    return {
        "type": "object",
        "properties": {tag: text},
        "required": [tag],
        "additionalProperties": False,
    }


_SCALARS.update(
    {
        "Decimal": _tagged("$decimal"),
        "datetime": _tagged("$datetime", "date-time"),
        "date": _tagged("$date", "date"),
        "UUID": _tagged("$uuid", "uuid"),
    }
)
_TAG_SAMPLES = {
    "$decimal": "1.00",
    "$datetime": "2026-01-01T00:00:00+00:00",
    "$date": "2026-01-01",
    "$uuid": "00000000-0000-4000-8000-000000000000",
}
_ARRAYS = frozenset({"list", "set", "frozenset", "Sequence", "Iterable", "List", "Set"})
_OBJECTS = frozenset({"dict", "Mapping", "Dict"})


@dataclass(frozen=True, slots=True)
class ParamSchema:
    """One parameter as the schema needs it."""

    name: str
    annotation: str | None = None  # source text
    # positional_only | positional | keyword_only | var_positional | var_keyword
    kind: str = "positional"
    arg_kind: ArgKind = ArgKind.JSON
    model: str | None = None  # "app_label.ModelName" for ORM instances


def model_schema(model: str | None) -> dict[str, Any]:
    label: dict[str, Any] = {"const": model} if model else {"type": "string"}
    return {
        "type": "object",
        "properties": {MODEL_KEY: label, "pk": {"type": ["integer", "string"]}},
        "required": [MODEL_KEY, "pk"],
        "additionalProperties": False,
    }


def argument_schema(param: ParamSchema) -> dict[str, Any]:
    """The schema of one parameter's value (``*args``: an array, ``**kwargs``: an object)."""
    if param.arg_kind is ArgKind.ORM_INSTANCE:
        value = model_schema(param.model)
    else:
        value = annotation_schema(param.annotation)
    if param.kind == "var_positional":
        return {"type": "array", "items": value} if value else {"type": "array"}
    if param.kind == "var_keyword":
        return {"type": "object", "additionalProperties": value} if value else {"type": "object"}
    return value


def annotation_schema(annotation: str | None) -> dict[str, Any]:
    if not annotation:
        return {}
    try:
        return _schema(cst.parse_expression(annotation))
    except cst.ParserSyntaxError:
        return {}


def _name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _schema(node: cst.BaseExpression) -> dict[str, Any]:
    if isinstance(node, cst.SimpleString):  # "Order": a forward reference
        value = node.evaluated_value
        return annotation_schema(value) if isinstance(value, str) else {}
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _any_of([_schema(node.left), _schema(node.right)])
    if isinstance(node, cst.Subscript):
        return _generic(node)
    name = _name(node)
    return dict(_SCALARS.get(name or "", {}))


def _generic(node: cst.Subscript) -> dict[str, Any]:
    name = _name(node.value) or ""
    args = [
        _schema(element.slice.value)
        for element in node.slice
        if isinstance(element.slice, cst.Index)
    ]
    if name == "Optional" and args:
        return _any_of([args[0], {"type": "null"}])
    if name == "Union":
        return _any_of(args)
    if name in _ARRAYS or (name in {"tuple", "Tuple"} and len(args) == 2 and not args[1]):
        return {"type": "array", "items": args[0]} if args and args[0] else {"type": "array"}
    if name in {"tuple", "Tuple"}:
        return {"type": "array"}
    if name in _OBJECTS and len(args) == 2:
        values = args[1]
        return {"type": "object", "additionalProperties": values} if values else {"type": "object"}
    return dict(_SCALARS.get(name, {}))


def _any_of(options: Sequence[dict[str, Any]]) -> dict[str, Any]:
    if any(not option for option in options):  # one side allows anything
        return {}
    return {"anyOf": list(options)}


def data_schema(feature: str, entry: str, params: Sequence[ParamSchema]) -> dict[str, Any]:
    """The schema of ``event["data"]`` for ``entry`` (``module.function``)."""
    return {
        "$schema": DRAFT,
        "title": feature,
        "description": f"data of a {feature} event: the arguments of {entry}, by name",
        "type": "object",
        "properties": {param.name: argument_schema(param) for param in params},
        "required": [param.name for param in params],
        "additionalProperties": False,
    }


def sample_value(schema: dict[str, Any]) -> Any:
    """A small value that satisfies ``schema`` (used by the generated handler tests)."""
    if "const" in schema:
        return schema["const"]
    if "anyOf" in schema:
        return sample_value(schema["anyOf"][0])
    for tag, text in _TAG_SAMPLES.items():
        if schema.get("required") == [tag]:
            return {tag: text}
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    samples: dict[str, Any] = {
        "integer": 1,
        "number": 1.0,
        "string": "sample",
        "boolean": True,
        "array": [],
        "object": {},
    }
    return samples.get(kind or "")
