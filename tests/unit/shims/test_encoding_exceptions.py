"""``shims.encoding.decode_exception``: a reply (broker data) chooses no code the caller runs.

An error answer names a type and its arguments. The caller raises it again only if it is
an ``Exception`` subclass that is a builtin or the monolith's own (the source tree of the
entry point's module, installed packages excluded), built without running its Python
``__new__``/``__init__``; anything else is a ``RemoteError`` naming the type and message.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any
from unittest import SkipTest

import pytest
from celery.exceptions import Reject
from django.core.exceptions import PermissionDenied  # re-exported here on purpose

from shims.encoding import RemoteError, decode_exception, encode_exception

HOME = __name__  # the "entry point's module": this file, under the checkout's source tree
ran: list[str] = []


class Loud(Exception):
    """An ``__init__`` with an effect: a reply must not be able to trigger it."""

    def __init__(self, *args: Any) -> None:
        ran.append("__init__")
        super().__init__(*args)


class Shaped(Exception):
    def __new__(cls, *args: Any) -> Shaped:
        ran.append("__new__")
        return super().__new__(cls, *args)


class Unreachable(ConnectionError):
    """A monolith error on a builtin base with its own C ``__new__`` (``OSError``)."""


class Exiting(SystemExit, Exception):
    """An ``Exception`` that is also process control."""


@pytest.fixture(autouse=True)
def nothing_ran() -> Iterator[None]:
    ran.clear()
    yield
    ran.clear()


def answer(kind: str, *args: Any, message: str = "m") -> dict[str, Any]:
    return {"$error": {"type": kind, "args": list(args), "message": message}}


def test_the_monoliths_own_type_is_rebuilt_without_running_its_init() -> None:
    rebuilt = decode_exception(answer(f"{HOME}:Loud", "sku-1", 3), HOME)
    assert (type(rebuilt), rebuilt.args, str(rebuilt)) == (Loud, ("sku-1", 3), "('sku-1', 3)")
    assert ran == []
    assert rebuilt.__notes__ == ["raised by the extracted handler, in the worker"]


def test_a_round_trip_keeps_type_and_arguments() -> None:
    rebuilt = decode_exception(encode_exception(Unreachable("quotes service down")), HOME)
    assert (type(rebuilt), rebuilt.args) == (Unreachable, ("quotes service down",))


def test_builtins_are_rebuilt_whatever_the_home() -> None:
    for home in (HOME, None):
        rebuilt = decode_exception(answer("builtins:KeyError", "sku"), home)
        assert (type(rebuilt), rebuilt.args) == (KeyError, ("sku",))


def test_a_class_with_its_own_new_is_refused_and_not_run() -> None:
    with pytest.raises(RemoteError, match=rf"{HOME}:Shaped \(m\)"):
        decode_exception(answer(f"{HOME}:Shaped", "x"), HOME)
    assert ran == []


@pytest.mark.parametrize(
    "kind",
    [
        "builtins:SystemExit",
        "builtins:KeyboardInterrupt",
        "builtins:GeneratorExit",
        f"{HOME}:Exiting",  # an Exception subclass too, but SystemExit all the same
    ],
)
def test_process_control_is_never_raised(kind: str) -> None:
    with pytest.raises(RemoteError, match="m"):
        decode_exception(answer(kind, 0), HOME)


@pytest.mark.parametrize(
    "kind",
    [
        "django.core.exceptions:PermissionDenied",  # a 403 in a view
        f"{HOME}:PermissionDenied",  # the same class, named through a monolith module
        "unittest:SkipTest",  # a passed-as-skipped test
        "celery.exceptions:Reject",  # a requeue loop inside a task
    ],
)
def test_a_librarys_exception_is_not_raised_even_when_loaded(kind: str) -> None:
    assert all(issubclass(c, Exception) for c in (PermissionDenied, SkipTest, Reject))  # loaded
    with pytest.raises(RemoteError, match="outside the builtins and the monolith's own code"):
        decode_exception(answer(kind, "x"), HOME)


def test_without_a_home_only_builtins_are_raised() -> None:
    with pytest.raises(RemoteError, match="outside the builtins"):
        decode_exception(answer(f"{HOME}:Loud", "x"), None)


def test_a_home_that_is_not_loaded_raises_only_builtins() -> None:
    assert "not_a_loaded_module" not in sys.modules
    with pytest.raises(RemoteError, match="outside the builtins"):
        decode_exception(answer(f"{HOME}:Loud", "x"), "not_a_loaded_module.views")
    assert "not_a_loaded_module" not in sys.modules


def test_a_builtin_that_cannot_take_its_arguments_is_a_remote_error() -> None:
    with pytest.raises(RemoteError, match=r"builtins:UnicodeDecodeError \(m\)"):
        decode_exception(answer("builtins:UnicodeDecodeError", "only one"), HOME)


def _fake_module(monkeypatch: pytest.MonkeyPatch, name: str, file: str, **attrs: Any) -> Any:
    module = types.ModuleType(name)
    module.__file__ = file
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)
    return module


def test_a_monolith_installed_as_a_package_keeps_only_its_own_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Installed, the monolith's folder is site-packages itself: every library would be
    "under" it, so only the entry point's own top-level package counts."""
    lib = "/venv/lib/python3.11/site-packages"
    _fake_module(monkeypatch, "shopapp", f"{lib}/shopapp/__init__.py", __path__=[])
    _fake_module(monkeypatch, "shopapp.views", f"{lib}/shopapp/views.py")
    errors = _fake_module(monkeypatch, "shopapp.errors", f"{lib}/shopapp/errors.py")
    other = _fake_module(monkeypatch, "otherlib", f"{lib}/otherlib/__init__.py", __path__=[])
    errors.Declined = type("Declined", (Exception,), {"__module__": "shopapp.errors"})
    other.Abort = type("Abort", (Exception,), {"__module__": "otherlib"})

    rebuilt = decode_exception(answer("shopapp.errors:Declined", "card"), "shopapp.views")
    assert (type(rebuilt).__name__, rebuilt.args) == ("Declined", ("card",))
    with pytest.raises(RemoteError, match="outside the builtins"):
        decode_exception(answer("otherlib:Abort", "x"), "shopapp.views")


def test_a_sibling_app_of_the_project_is_the_monoliths_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Django project's apps are top-level packages side by side (orders, payments)."""
    root = "/srv/shop"
    _fake_module(monkeypatch, "orders", f"{root}/orders/__init__.py", __path__=[])
    _fake_module(monkeypatch, "orders.checkout", f"{root}/orders/checkout.py")
    payments = _fake_module(monkeypatch, "payments", f"{root}/payments/__init__.py", __path__=[])
    venv = _fake_module(
        monkeypatch, "vendored", f"{root}/.venv/lib/python3.11/site-packages/vendored.py"
    )
    payments.Declined = type("Declined", (Exception,), {"__module__": "payments"})
    venv.Abort = type("Abort", (Exception,), {"__module__": "vendored"})

    rebuilt = decode_exception(answer("payments:Declined", "card"), "orders.checkout")
    assert type(rebuilt).__name__ == "Declined"
    with pytest.raises(RemoteError, match="outside the builtins"):
        decode_exception(answer("vendored:Abort", "x"), "orders.checkout")
