"""Turning an entry point's call arguments into event data, and back on the handler side.

The rule is deliberately narrow so that an event is always plain JSON: ``None``, bools,
ints, finite floats, strings, lists/tuples of those and dicts with string keys pass
as they are; a Django model instance travels as a reference
``{"$model": "app_label.ModelName", "pk": ...}`` and is fetched again by the handler
(the handler sees the row as it is *now*, which is what an asynchronous consumer must
expect anyway). The value types a Django code base passes around most — ``Decimal``
(money), ``datetime``, ``date`` and ``UUID`` — travel as tagged strings
(``{"$decimal": "12.50"}``) and come back as the same type, exactly, so the function
computes with what the monolith received (a float would round money). Anything else (a
file, a queryset, a set, a custom object) is refused with :class:`UnencodableArgument`,
a ``TypeError`` naming the argument, its type and the feature, because silently
``str()``-ing it would hand the function something different.

Django is never imported here: a value is recognised as a model instance only when
``django.db.models`` is already loaded, which it is in any process that has one.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import sys
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

__all__ = [
    "ERROR_KEY",
    "MODEL_KEY",
    "RESERVED_KEYS",
    "ArgumentEncoder",
    "RemoteError",
    "UnencodableArgument",
    "decode_arguments",
    "decode_exception",
    "decode_value",
    "encode_exception",
    "encode_value",
    "is_error_answer",
]

MODEL_KEY = "$model"

# Tagged value types: (type, tag, to text, from text). datetime before date: it is one.
_TAGGED: tuple[tuple[type, str, Callable[[Any], str], Callable[[str], Any]], ...] = (
    (Decimal, "$decimal", str, Decimal),
    (dt.datetime, "$datetime", dt.datetime.isoformat, dt.datetime.fromisoformat),
    (dt.date, "$date", dt.date.isoformat, dt.date.fromisoformat),
    (uuid.UUID, "$uuid", str, uuid.UUID),
)
_DECODERS = {tag: parse for _, tag, _, parse in _TAGGED}
ERROR_KEY = "$error"  # a request/reply handler's exception, as its answer
RESERVED_KEYS = frozenset({MODEL_KEY, ERROR_KEY, *_DECODERS})

_SCALARS = (str, int, bool, type(None))


class UnencodableArgument(TypeError):
    """An argument that cannot travel in a JSON event."""


def _model_base() -> type | None:
    module = sys.modules.get("django.db.models")
    return getattr(module, "Model", None) if module is not None else None


def encode_value(value: Any, where: str = "value") -> Any:
    """Return the JSON form of ``value`` or raise :class:`UnencodableArgument`."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnencodableArgument(f"{where}: {value!r} is not representable in JSON")
        return value
    if isinstance(value, list | tuple):
        return [encode_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return _encode_dict(value, where)
    for kind, tag, text, _ in _TAGGED:
        if isinstance(value, kind):
            return {tag: text(value)}
    model = _model_base()
    if model is not None and isinstance(value, model):
        return _encode_model(value, where)
    raise UnencodableArgument(
        f"{where}: a {type(value).__module__}.{type(value).__qualname__} is not "
        "JSON-serialisable (pass ids, strings or numbers, or a Django model instance)"
    )


def _encode_dict(value: dict[Any, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise UnencodableArgument(f"{where}: dict key {key!r} is not a string")
        if key in RESERVED_KEYS:
            raise UnencodableArgument(f"{where}: the key {key!r} is reserved")
        out[key] = encode_value(item, f"{where}[{key!r}]")
    return out


def _encode_model(value: Any, where: str) -> dict[str, Any]:
    pk = value.pk
    if pk is None:
        raise UnencodableArgument(f"{where}: an unsaved {type(value).__name__} has no pk")
    return {MODEL_KEY: value._meta.label, "pk": encode_value(pk, f"{where}.pk")}


class ArgumentEncoder:
    """Binds a call's arguments by the entry point's signature and encodes them.

    Built once per decorated function (``inspect.signature`` is slow); used only on the
    function and shadow paths, never on the monolith path.
    """

    def __init__(self, func: Callable[..., Any], feature: str) -> None:
        self.signature = inspect.signature(func)
        self.feature = feature

    def encode(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.feature}: {exc}") from None
        bound.apply_defaults()
        out: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            where = f"{self.feature}: argument {name!r}"
            if self.signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                out[name] = _encode_dict(value, where)
            else:
                out[name] = encode_value(value, where)
        return out


def decode_value(value: Any) -> Any:
    """Inverse of :func:`encode_value`: model references become fetched instances."""
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, dict):
        if MODEL_KEY in value:
            return _fetch_model(value)
        if len(value) == 1:
            ((key, text),) = value.items()
            parse = _DECODERS.get(key)
            if parse is not None:
                return parse(text)
        return {key: decode_value(item) for key, item in value.items()}
    return value


def decode_arguments(data: Mapping[str, Any]) -> dict[str, Any]:
    """Decode an event's ``data`` (argument name -> encoded value) into call kwargs."""
    return {name: decode_value(value) for name, value in data.items()}


def _fetch_model(ref: Mapping[str, Any]) -> Any:
    from django.apps import apps  # only handlers that receive model references need Django

    label = ref[MODEL_KEY]
    if not isinstance(label, str) or label.count(".") != 1 or "pk" not in ref:
        raise ValueError(f"bad model reference {ref!r}")
    model = apps.get_model(label)
    return model._default_manager.get(pk=ref["pk"])


# ---------------------------------------------------------------- exceptions as answers


class RemoteError(RuntimeError):
    """A handler's exception that this process cannot raise again as its own type."""


def encode_exception(exc: BaseException) -> dict[str, Any]:
    """A request/reply handler's exception as its answer: type, arguments and message.

    As in any RPC (Celery's own results, gRPC statuses), an exception the handler raises
    is the call's answer — ``QuoteError("country must be a two-letter ISO code")`` — not a
    failure of the function path: the caller raises it again (:func:`decode_exception`).
    Arguments that do not encode are replaced by the message.
    """
    cls = type(exc)
    try:
        args = [encode_value(arg, "exception argument") for arg in exc.args]
    except UnencodableArgument:
        args = [str(exc)]
    kind = f"{cls.__module__}:{cls.__qualname__}"
    return {ERROR_KEY: {"type": kind, "args": args, "message": str(exc)}}


def is_error_answer(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and ERROR_KEY in value


def decode_exception(value: Mapping[str, Any]) -> Exception:
    """The exception an :func:`encode_exception` answer stands for, as its own type.

    The type is looked up only among modules this process has already imported (never
    imported on a reply's say-so) and must be an ``Exception`` subclass; otherwise, or if
    it cannot be built from its arguments, :class:`RemoteError` is raised, which the shim
    treats as a failed function path (fallback when allowed).
    """
    info = value[ERROR_KEY] if isinstance(value.get(ERROR_KEY), dict) else {}
    module, _, qualname = str(info.get("type", "")).partition(":")
    message = str(info.get("message", ""))
    target: Any = sys.modules.get(module)
    for part in qualname.split(".") if qualname else ["<missing>"]:
        target = getattr(target, part, None)
    if not (isinstance(target, type) and issubclass(target, Exception)):
        raise RemoteError(f"the handler raised {module}:{qualname} ({message}), not loaded here")
    try:
        exc = target(*[decode_value(arg) for arg in info.get("args", [])])
    except Exception as build_error:
        raise RemoteError(f"the handler raised {module}:{qualname} ({message})") from build_error
    exc.add_note("raised by the extracted handler, in the worker")
    return exc
