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
import os
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


def decode_exception(value: Mapping[str, Any], home: str | None = None) -> Exception:
    """The exception an :func:`encode_exception` answer stands for, as its own type.

    A reply is data from the broker, so it chooses nothing the caller runs: the type is
    looked up only among modules this process has already imported (never imported on a
    reply's say-so), must be an ``Exception`` subclass (never ``SystemExit``,
    ``KeyboardInterrupt``, ``GeneratorExit``), and must be a builtin or defined in the
    monolith's own source tree, the ``sys.path`` folder the entry point's module ``home``
    was imported from (installed packages excluded, see :func:`_in_scope`). It is built
    without running its Python ``__new__``/``__init__`` (:func:`_build`). Anything else
    is :class:`RemoteError` carrying the type's name and message. A ``RemoteError``
    answer (the handler base's own, e.g. for a result that is not JSON) is one again.
    """
    info = value[ERROR_KEY] if isinstance(value.get(ERROR_KEY), dict) else {}
    module, _, qualname = str(info.get("type", "")).partition(":")
    message = str(info.get("message", ""))
    if (module, qualname) == (RemoteError.__module__, RemoteError.__qualname__):
        return RemoteError(message)  # the handler base's own answer (e.g. a non-JSON result)
    target: Any = sys.modules.get(module)
    for part in qualname.split(".") if qualname else ["<missing>"]:
        target = getattr(target, part, None)
    if not (isinstance(target, type) and issubclass(target, Exception)):
        raise RemoteError(f"the handler raised {module}:{qualname} ({message}), not loaded here")
    if issubclass(target, _NEVER) or not _in_scope(target, home):
        raise RemoteError(
            f"the handler raised {module}:{qualname} ({message}), a type outside the builtins "
            "and the monolith's own code: not raised here"
        )
    try:
        exc = _build(target, [decode_value(arg) for arg in info.get("args", [])])
    except Exception as build_error:
        raise RemoteError(f"the handler raised {module}:{qualname} ({message})") from build_error
    BaseException.add_note(exc, "raised by the extracted handler, in the worker")
    return exc


# Exception subclasses that are also process control, should a class mix them in.
_NEVER = (SystemExit, KeyboardInterrupt, GeneratorExit)
_INSTALLED = ("site-packages", "dist-packages")
_ARGS = vars(BaseException)["args"]


def _in_scope(cls: type, home: str | None) -> bool:
    """A builtin, or a class of the monolith whose entry point lives in the module ``home``.

    Why not any loaded type: raising a library's exception steers the library around the
    caller, not just the caller (``celery.exceptions.Reject``/``Ignore``/``Retry`` inside
    a task, Django's ``Http404``/``PermissionDenied``, ``unittest.SkipTest`` in a test).
    The answers a handler legitimately gives are the monolith's own domain errors (the
    extracted code imports them from the monolith) and builtins; everything else
    (Django's ``ValidationError`` included) comes back as :class:`RemoteError`.

    "The monolith's" is: the top-level package of ``home``, and any module defined under
    the ``sys.path`` folder that package came from (a Django project's sibling apps),
    except under ``site-packages``/``dist-packages`` — a project whose ``.venv`` sits in
    its own folder, and a monolith installed as a package, keep their libraries out. The
    class's own ``__module__`` is checked, not the module the reply named, so a monolith
    module that re-exports a library's exception does not let it through.
    """
    if cls.__module__ == "builtins":
        return True
    if not home:
        return False
    top = home.partition(".")[0]
    if cls.__module__ == top or cls.__module__.startswith(top + "."):
        return True
    root = _source_root(top)
    defined = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if root is None or not isinstance(defined, str) or _installed(root):
        return False
    path = os.path.abspath(defined)
    return path.startswith(root + os.sep) and not _installed(path[len(root) :])


def _installed(path: str) -> bool:
    return any(part in _INSTALLED for part in path.split(os.sep))


def _source_root(top: str) -> str | None:
    """The ``sys.path`` folder the top-level module ``top`` was imported from."""
    module = sys.modules.get(top)
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    folder = os.path.dirname(os.path.abspath(file))
    return os.path.dirname(folder) if hasattr(module, "__path__") else folder


def _build(cls: type[Exception], args: list[Any]) -> Exception:
    """``cls`` with ``args``, running none of its Python code.

    A builtin is called (its constructor is C code). Any other class is made by the
    ``__new__`` of its nearest builtin base (C code too; ``BaseException.__new__`` would
    refuse a subclass of ``OSError`` as unsafe) and given its ``args`` directly: its
    ``__init__`` never runs, so attributes it would set are absent; a class that defines
    its own ``__new__`` is refused, as it could not be built faithfully.
    """
    if cls.__module__ == "builtins":
        return cls(*args)
    base = next(k for k in cls.__mro__ if k.__module__ == "builtins")
    for klass in cls.__mro__[: cls.__mro__.index(base)]:
        if "__new__" in vars(klass):
            raise TypeError(f"{klass.__qualname__} defines __new__")
    exc = base.__new__(cls, *args)
    if type(exc) is not cls:
        raise TypeError(f"{base.__qualname__}.__new__ made a {type(exc).__qualname__}")
    _ARGS.__set__(exc, tuple(args))  # past any ``args`` property or __setattr__ of the class
    return exc
